/**
 * Scratch files of uploads and downloads, and the streaming hash they are written through.
 *
 * A scratch file is named `<pid>-<random>.part` in its directory, so a sweep can tell orphans (their process is
 * gone, or they are older than an hour) from files a live activity on this host is still writing.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';

/** Chunk size of the streaming hash and of in-memory streams (ART-054: 64 KiB). */
export const chunkSize = 64 * 1024;

/**
 * Block size of file reads and writes (1 MiB): reading a file 64 KiB at a time costs one system call and one trip
 * through the event loop per block, which made reads 4–7 times slower than 1 MiB blocks (docs/benchmarks.md#artifact-transfer-profile).
 * Still a fixed size, so memory stays bounded whatever the file size (ART-087).
 */
export const ioBlockSize = 1024 * 1024;

/** The read block for a file of `size` bytes: its size (plus one, to see the end in the same read), at most 1 MiB. */
export function readBlockSize(size: number): number {
  return Math.min(ioBlockSize, size + 1);
}

/** A new scratch file path in `dir` (the directory is created; the file is not). */
export async function scratchPath(dir: string, suffix = 'part'): Promise<string> {
  await mkdir(dir, { recursive: true });
  return path.join(dir, `${process.pid}-${randomBytes(8).toString('hex')}.${suffix}`);
}

/** Removes scratch files in `dir` whose process is gone or that are older than `olderThan`; returns how many. */
export async function sweepScratch(dir: string, olderThan: Date): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    const info = await stat(file).catch(() => undefined);
    if (!info) continue;
    const orphaned = (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) || info.mtime < olderThan;
    if (!orphaned) continue;
    await rm(file, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A pass-through that hashes (SHA-256) and counts the bytes flowing through it, reporting progress at most every
 * `progressMs`, and once more at the end.
 */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private lastProgress = 0;
  /** Bytes seen so far. */
  bytes = 0;

  constructor(
    private readonly onProgress?: (bytes: number) => void,
    private readonly progressMs = 250,
  ) {
    super({ highWaterMark: chunkSize });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.onProgress) {
      const now = Date.now();
      if (now - this.lastProgress >= this.progressMs) {
        this.lastProgress = now;
        this.onProgress(this.bytes);
      }
    }
    callback(null, chunk);
  }

  /** Reports the final count, which the throttle may have held back (a progress bar ends at 100 %). */
  override _flush(callback: TransformCallback): void {
    this.onProgress?.(this.bytes);
    callback();
  }

  /** The hex digest; call once, after the stream has ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
