/**
 * The entries an artifact archive is packed from, whatever their source (a job's workspace through the Docker API,
 * or a local directory), and the canonical order they must arrive in.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ioBlockSize } from '../store/scratch';

/** One file, directory or link to pack. */
export interface SourceEntry {
  /** Workspace-relative POSIX path: no leading `./` or `/`, no trailing `/`, no `.` or `..` segment. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  /** Permission bits as found (packing keeps only whether a file is executable). */
  mode: number;
  /** Bytes of a file's content (0 for everything else). */
  size: number;
  /** A symlink's target as written, or the workspace-relative path a hard link points to. */
  linkname?: string;
  /** A file's content; read, or skipped with `discardEntry`, before the next entry is asked for. */
  body?: Readable;
  /** A small file's whole content, already read (instead of `body`): packing it costs no stream. */
  content?: Buffer;
  /** How to skip the content cheaply (a local file is closed unread; an archive stream must be drained). */
  discard?: () => void;
}

/** Files up to this size are written with one call (a write stream per 4 KiB file costs more than the write). */
const smallFileSize = 256 * 1024;

/** Writes a file entry's content to `handle`, which it closes: in one write when small, streamed otherwise. */
export async function writeContent(handle: FileHandle, entry: SourceEntry): Promise<void> {
  if (entry.content) {
    try {
      await handle.writeFile(entry.content);
    } finally {
      await handle.close();
    }
    return;
  }
  const body = entry.body ?? Readable.from([]);
  if (entry.size > smallFileSize) {
    // The write stream closes the handle when it ends or fails.
    await pipeline(body, handle.createWriteStream({ highWaterMark: ioBlockSize }));
    return;
  }
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    await handle.writeFile(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  } finally {
    await handle.close();
  }
}

/** A file entry's content as a stream (whether it was read already or not). */
export function entryBody(entry: SourceEntry): Readable {
  return entry.body ?? Readable.from(entry.content ? [entry.content] : []);
}

/** Skips an entry's content without using it. */
export function discardEntry(entry: SourceEntry): void {
  if (entry.discard) entry.discard();
  else entry.body?.resume();
}

/**
 * The canonical order of archive entries: path segment by segment, bytewise, a directory before its contents —
 * the order of a depth-first walk that lists each directory sorted by name (as Docker's archive API does). The
 * same files therefore give the same archive wherever they come from.
 */
export function comparePaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const order = Buffer.compare(Buffer.from(left[i]!), Buffer.from(right[i]!));
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

/** Whether `ancestor` is a proper ancestor directory of `path` (`a` of `a/b`, `''` of everything). */
export function isAncestor(ancestor: string, path: string): boolean {
  return ancestor === '' ? path !== '' : path.startsWith(`${ancestor}/`);
}

/** Removes `./`, empty and `.` segments and a trailing `/` from a relative archive path. */
export function normaliseEntryPath(name: string): string {
  return name
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/**
 * The entries under several workspace paths (`bases`, in canonical order, none inside another), each base
 * preceded by the directories leading to it, so the whole stays in canonical order.
 */
export async function* entriesUnder(
  bases: readonly string[],
  walk: (base: string) => AsyncIterable<SourceEntry>,
): AsyncIterable<SourceEntry> {
  const emitted = new Set<string>();
  for (const base of bases) {
    const segments = base === '' ? [] : base.split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      const ancestor = segments.slice(0, depth).join('/');
      if (emitted.has(ancestor)) continue;
      emitted.add(ancestor);
      yield { path: ancestor, type: 'directory', mode: 0o755, size: 0 };
    }
    yield* walk(base);
  }
}
