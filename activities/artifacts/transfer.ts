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
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { pipeline as pipelineCallback, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { SourceEntry } from './archive-entry';
import type { ArtifactCompression } from './catalog';
import { ExtractionGuard } from './path-safety';
import { packArchive, type PackSummary } from './tar-pack';
import { chunkSize, HashingStream, scratchPath } from '../store/scratch';
import {
  ContentDigestMismatchError,
  ContentNotFoundError,
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
  /** Closes it and removes its local copy. */
  release(): Promise<void>;
}

/** A stored object whose size did not match what its record says. */
export class ContentSizeMismatchError extends ContentDigestMismatchError {
  constructor(
    expected: HexDigest,
    actual: HexDigest,
    readonly expectedSize: number,
    readonly actualSize: number,
  ) {
    super(expected, actual);
    this.message = `content has ${actualSize} bytes, expected ${expectedSize} (${this.message})`;
    this.name = 'ContentSizeMismatchError';
  }
}

/**
 * Fetches and verifies an object: streamed through SHA-256 to a local scratch file (S3) or read in place through one
 * open descriptor (fs; publish never rewrites a content file), then checked — size first, so a truncated read is
 * caught, then digest. Throws `ContentNotFoundError`, `ContentSizeMismatchError` or `ContentDigestMismatchError`.
 */
export async function fetchVerified(
  store: ArtifactStore,
  digest: HexDigest,
  options: { expectedSize?: number; spoolDir: string; onProgress?: (bytes: number) => void; signal?: AbortSignal },
): Promise<VerifiedContent> {
  const hasher = new HashingStream(options.onProgress);
  let handle: FileHandle | undefined;
  let spool: string | undefined;
  const release = async () => {
    await handle?.close().catch(() => undefined);
    if (spool) await rm(spool, { force: true });
  };
  try {
    const local = store.localContentPath?.(digest);
    if (local) {
      handle = await open(local, 'r').catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'ENOENT' ? new ContentNotFoundError(digest) : error;
      });
      await pipeline(readHandle(handle), hasher, discard(), { signal: options.signal });
    } else {
      spool = await scratchPath(options.spoolDir);
      await pipeline(await store.getContent(digest), hasher, createWriteStream(spool, { highWaterMark: chunkSize }), {
        signal: options.signal,
      });
      handle = await open(spool, 'r');
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
  const verified = handle;
  return { digest, size: hasher.bytes, open: () => readHandle(verified), release };
}

function readHandle(handle: FileHandle): Readable {
  return createReadStream('', { fd: handle, start: 0, autoClose: false, highWaterMark: chunkSize });
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
