/**
 * Moving archives in and out of the store with verification at every hop (docs/artifacts.md, ART-051):
 *
 * - `storeArchive` packs entries deterministically, checks each one as extraction would (so whatever is stored can
 *   be extracted), optionally gzips, and streams the result into the store, which hashes it as it goes. Any
 *   caller that has a tar stream to keep (a run's source archive, an investigation's reports) can use
 *   `store.putContent` directly the same way.
 * - `fetchVerified` brings an object to local disk (S3) or opens it in place (fs), hashing it, and checks size and
 *   digest before the caller may read a byte of it: nothing unverified reaches a workspace.
 * - `verifyContent` re-hashes a stored object (scrub, retention, deployments).
 */
import { createReadStream, createWriteStream, fstat } from 'node:fs';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { pipeline as pipelineCallback, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { SourceEntry } from './archive-entry';
import type { ArtifactCompression } from './catalog';
import { ExtractionGuard } from './path-safety';
import { packArchive, type PackSummary } from './tar-pack';
import { chunkSize, HashingStream, ioBlockSize, scratchPath } from '../store/scratch';
import {
  ContentDigestMismatchError,
  ContentNotFoundError,
  ContentSizeMismatchError,
  type ArtifactStore,
  type HexDigest,
  type PutContentOptions,
} from '../store/store';

/** What `storeArchive` stored. */
export interface StoredArchive {
  digest: HexDigest;
  /** Bytes stored (compressed when compression is gzip). */
  size: number;
  /** Content bytes written: 0 when the store already held identical content. */
  bytesWritten: number;
  deduplicated: boolean;
  compression: ArtifactCompression;
  contents: PackSummary;
}

/** Packs `entries` (canonical order) into the store. */
export async function storeArchive(
  store: ArtifactStore,
  entries: AsyncIterable<SourceEntry>,
  options: { compression?: ArtifactCompression; put?: PutContentOptions } = {},
): Promise<StoredArchive> {
  const compression = options.compression ?? 'none';
  const packed = packArchive(guardEntries(entries));
  let body: Readable = packed.stream;
  if (compression === 'gzip') {
    // Level 6, no file name or time in the header: the same tar gives the same bytes with the same zlib.
    body = pipelineCallback(packed.stream, createGzip({ level: 6, chunkSize }), () => undefined);
  }
  const [put, summary] = await Promise.allSettled([store.putContent(body, options.put), packed.summary]);
  // A packing error (unsafe entry, out of order) explains a failed upload better than the broken stream does.
  if (summary.status === 'rejected') throw summary.reason;
  if (put.status === 'rejected') throw put.reason;
  return { ...put.value, compression, contents: summary.value };
}

/** Checks each entry as extraction will, so an archive that could not be extracted is never stored. */
export async function* guardEntries(entries: AsyncIterable<SourceEntry>): AsyncIterable<SourceEntry> {
  const guard = new ExtractionGuard();
  for await (const entry of entries) {
    guard.check({
      name: entry.path,
      type: entry.type === 'other' ? 'special-file' : entry.type,
      // Packing drops setuid/setgid; only the permission bits matter here.
      mode: entry.mode & 0o777,
      linkname: entry.linkname,
    });
    yield entry;
  }
}

/** A stored object, verified, that may now be read (any number of times) until released. */
export interface VerifiedContent {
  digest: HexDigest;
  size: number;
  /** A fresh stream of the verified bytes. */
  open(): Readable;
  /** The verified local file, opened (for a reader in another process, such as the system tar); the caller closes it. */
  openFile(): Promise<FileHandle>;
  /** Closes it and removes its local copy. */
  release(): Promise<void>;
}

/**
 * Fetches and verifies an object: streamed through SHA-256 to a local scratch file (S3), or read in place (fs), then
 * checked — size first, so a truncated read is caught, then digest. Throws `ContentNotFoundError`,
 * `ContentSizeMismatchError` or `ContentDigestMismatchError`. Each `open()` reads the same file again and refuses
 * it if it is no longer the verified one (another inode or size: content files are never rewritten in place).
 */
export async function fetchVerified(
  store: ArtifactStore,
  digest: HexDigest,
  options: { expectedSize?: number; spoolDir: string; onProgress?: (bytes: number) => void; signal?: AbortSignal },
): Promise<VerifiedContent> {
  const hasher = new HashingStream(options.onProgress);
  const local = store.localContentPath?.(digest);
  const file = local ?? (await scratchPath(options.spoolDir));
  const release = async () => {
    if (!local) await rm(file, { force: true });
  };
  let identity: { ino: number; size: number };
  try {
    if (local) {
      const before = await stat(file).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'ENOENT' ? new ContentNotFoundError(digest) : error;
      });
      identity = { ino: before.ino, size: before.size };
      await pipeline(readVerified(file, identity), hasher, discard(), { signal: options.signal });
    } else {
      await pipeline(await store.getContent(digest), hasher, createWriteStream(file, { highWaterMark: ioBlockSize }), {
        signal: options.signal,
      });
      const written = await stat(file);
      identity = { ino: written.ino, size: written.size };
    }
    const actual = hasher.digest();
    if (options.expectedSize !== undefined && hasher.bytes !== options.expectedSize) {
      throw new ContentSizeMismatchError(digest, actual, options.expectedSize, hasher.bytes);
    }
    if (actual !== digest) throw new ContentDigestMismatchError(digest, actual);
  } catch (error) {
    await release();
    throw error;
  }
  return {
    digest,
    size: hasher.bytes,
    open: () => readVerified(file, identity),
    openFile: () => openVerified(file, identity),
    release,
  };
}

/** `file` opened, refused unless it is still the one with `identity`. */
async function openVerified(file: string, identity: { ino: number; size: number }): Promise<FileHandle> {
  const handle = await open(file, 'r');
  const info = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (info.ino !== identity.ino || info.size !== identity.size) {
    await handle.close();
    throw new Error(`${file} changed after it was verified`);
  }
  return handle;
}

/** A stream of `file` that fails unless the file opened is still the one with `identity`. */
function readVerified(file: string, identity: { ino: number; size: number }): Readable {
  const stream = createReadStream(file, { highWaterMark: ioBlockSize });
  stream.once('open', (fd: number) => {
    fstat(fd, (error, info) => {
      if (error) stream.destroy(error);
      else if (info.ino !== identity.ino || info.size !== identity.size) {
        stream.destroy(new Error(`${file} changed after it was verified`));
      }
    });
  });
  return stream;
}

function discard(): Writable {
  return new Writable({ highWaterMark: chunkSize, write: (_chunk, _encoding, callback) => callback() });
}

/** The outcome of re-hashing a stored object (ART-057). */
export type ContentCheck =
  | { status: 'valid'; digest: HexDigest; size: number }
  | { status: 'corrupted'; digest: HexDigest; actual: HexDigest; size: number }
  | { status: 'missing'; digest: HexDigest };

/** Re-hashes a stored object (streaming, 64 KiB at a time). */
export async function verifyContent(
  store: ArtifactStore,
  digest: HexDigest,
  onProgress?: (bytes: number) => void,
): Promise<ContentCheck> {
  let source: Readable;
  try {
    source = await store.getContent(digest);
  } catch (error) {
    if (error instanceof ContentNotFoundError) return { status: 'missing', digest };
    throw error;
  }
  const hasher = new HashingStream(onProgress);
  await pipeline(source, hasher, discard());
  const actual = hasher.digest();
  return actual === digest
    ? { status: 'valid', digest, size: hasher.bytes }
    : { status: 'corrupted', digest, actual, size: hasher.bytes };
}
