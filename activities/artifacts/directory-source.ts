/**
 * Archive entries from a local directory, in canonical order: a job's workspace read through its volume's
 * `Mountpoint` when the Docker engine is local (workspace-io.ts, docs/artifacts.md#workspace-io), `conveyor
 * artifacts` tests and the benchmark. Entries are what Docker's archive API would give for the same files, so both
 * ways pack the same bytes: symlinks are entries (never followed), a file with several links is a hard link to the
 * first path seen under the same base.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { entriesUnder, type SourceEntry } from './archive-entry';
import { readBlockSize } from '../store/scratch';

/** The entries under `bases` (workspace-relative, `''` for all) of directory `root`. */
export function directoryEntries(root: string, bases: readonly string[] = ['']): AsyncIterable<SourceEntry> {
  return entriesUnder(bases, (base) => walk(root, base, new Map()));
}

async function* walk(root: string, relative: string, inodes: Map<string, string>): AsyncIterable<SourceEntry> {
  const absolute = path.join(root, relative);
  const info = await lstat(absolute, { bigint: true }).catch(() => undefined);
  if (!info) return;
  if (relative !== '') yield await toEntry(absolute, relative, info, inodes);
  if (!info.isDirectory()) return;
  // Byte order of names: the canonical order (archive-entry.ts).
  const names = (await readdir(absolute)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) yield* walk(root, relative === '' ? name : `${relative}/${name}`, inodes);
}

async function toEntry(
  absolute: string,
  relative: string,
  info: Awaited<ReturnType<typeof lstat>>,
  inodes: Map<string, string>,
): Promise<SourceEntry> {
  const mode = Number(info.mode) & 0o7777;
  if (info.isDirectory()) return { path: relative, type: 'directory', mode, size: 0 };
  if (info.isSymbolicLink())
    return { path: relative, type: 'symlink', mode, size: 0, linkname: await readlink(absolute) };
  if (info.isFile()) {
    if (Number(info.nlink) > 1) {
      const inode = `${info.dev}:${info.ino}`;
      const first = inodes.get(inode);
      if (first !== undefined) return { path: relative, type: 'link', mode, size: 0, linkname: first };
      inodes.set(inode, relative);
    }
    // O_NOFOLLOW: a file swapped for a symlink after the lstat is refused, never followed.
    const handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
    // A small file is read in one block of its own size (a 1 MiB buffer for each 4 KiB file only feeds the GC).
    const body = handle.createReadStream({ highWaterMark: readBlockSize(Number(info.size)) });
    return { path: relative, type: 'file', mode, size: Number(info.size), body, discard: () => body.destroy() };
  }
  return { path: relative, type: 'other', mode, size: 0 };
}
