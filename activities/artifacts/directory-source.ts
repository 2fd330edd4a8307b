/**
 * Archive entries from a local directory, in canonical order (used by `conveyor artifacts` tests and the
 * benchmark; jobs read their workspace through Docker, see workspace-io.ts).
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { entriesUnder, type SourceEntry } from './archive-entry';
import { chunkSize } from '../store/scratch';

/** The entries under `bases` (workspace-relative, `''` for all) of directory `root`. */
export function directoryEntries(root: string, bases: readonly string[] = ['']): AsyncIterable<SourceEntry> {
  return entriesUnder(bases, (base) => walk(root, base));
}

async function* walk(root: string, relative: string): AsyncIterable<SourceEntry> {
  const absolute = path.join(root, relative);
  const info = await lstat(absolute).catch(() => undefined);
  if (!info) return;
  if (relative !== '') yield await toEntry(absolute, relative, info);
  if (!info.isDirectory()) return;
  // Byte order of names: the canonical order (archive-entry.ts).
  const names = (await readdir(absolute)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) yield* walk(root, relative === '' ? name : `${relative}/${name}`);
}

async function toEntry(
  absolute: string,
  relative: string,
  info: Awaited<ReturnType<typeof lstat>>,
): Promise<SourceEntry> {
  const mode = Number(info.mode) & 0o7777;
  if (info.isDirectory()) return { path: relative, type: 'directory', mode, size: 0 };
  if (info.isSymbolicLink())
    return { path: relative, type: 'symlink', mode, size: 0, linkname: await readlink(absolute) };
  if (info.isFile()) {
    const body = createReadStream(absolute, { highWaterMark: chunkSize });
    return { path: relative, type: 'file', mode, size: Number(info.size), body, discard: () => body.destroy() };
  }
  return { path: relative, type: 'other', mode, size: 0 };
}
