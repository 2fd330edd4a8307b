/**
 * Archive entries from a local directory, in canonical order: a job's workspace read through its volume's
 * `Mountpoint` when the Docker engine is local (workspace-io.ts, docs/artifacts.md#workspace-io), `conveyor
 * artifacts` tests and the benchmark. Entries are what Docker's archive API would give for the same files, so both
 * ways pack the same bytes: symlinks are entries (never followed), a file with several links is a hard link to the
 * first path seen under the same base.
 *
 * The entries of a directory are read ahead, `readAhead` at a time, and yielded in order: a file costs four system
 * calls (lstat, open, read, close) on libuv's thread pool, and one at a time the walk spent most of its time waiting
 * for each in turn (docs/benchmarks.md, "Artifacts: 10,000 files"). Small files are read whole into `content`;
 * memory stays bounded by `readAhead × wholeFileSize` (2 MiB).
 */
import { close, constants, createReadStream, lstat, open, read, readdir, readlink, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { entriesUnder, type SourceEntry } from './archive-entry';
import { readBlockSize } from '../store/scratch';

/** Entries read ahead of the one being packed. */
const readAhead = 32;

/** Files up to this size are read whole into the entry's `content` (bigger ones are streamed). */
const wholeFileSize = 64 * 1024;

// The callback API: FileHandle's promises cost about twice the CPU per small file (a close each, GC tracking).
const lstatBig = promisify(lstat) as unknown as (file: string, options: { bigint: true }) => Promise<BigIntStats>;
const openFile = promisify(open);
const readFile = promisify(read);
const closeFile = promisify(close);
const readLink = promisify(readlink);
const readDir = promisify(readdir);

/** The entries under `bases` (workspace-relative, `''` for all) of directory `root`. */
export function directoryEntries(root: string, bases: readonly string[] = ['']): AsyncIterable<SourceEntry> {
  return entriesUnder(bases, (base) => walkBase(root, base, new Map()));
}

/** An entry read ahead: what lstat found, and the entry (a hard link is decided in order, when it is yielded). */
interface Found {
  relative: string;
  info: BigIntStats;
  entry: SourceEntry;
}

async function* walkBase(root: string, base: string, inodes: Map<string, string>): AsyncIterable<SourceEntry> {
  const found = await look(root, base);
  if (!found) return;
  if (base === '') {
    if (found.info.isDirectory()) yield* walkDirectory(root, base, inodes);
    return;
  }
  yield* walkFound(root, found, inodes);
}

async function* walkFound(root: string, found: Found, inodes: Map<string, string>): AsyncIterable<SourceEntry> {
  yield linkedOrSelf(found, inodes);
  if (found.info.isDirectory()) yield* walkDirectory(root, found.relative, inodes);
}

async function* walkDirectory(root: string, relative: string, inodes: Map<string, string>): AsyncIterable<SourceEntry> {
  // Byte order of names: the canonical order (archive-entry.ts).
  const names = ((await readDir(path.join(root, relative))) as string[]).sort((a, b) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  const children = names.map((name) => (relative === '' ? name : `${relative}/${name}`));
  for await (const found of readInOrder(children, (child) => look(root, child))) {
    // Gone since the directory was listed: as if it had never been there.
    if (found) yield* walkFound(root, found, inodes);
  }
}

/**
 * `map` of each item, started up to `readAhead` items ahead and yielded in order. Stopped early (the consumer
 * failed), what was read ahead is closed.
 */
async function* readInOrder(
  items: readonly string[],
  map: (item: string) => Promise<Found | undefined>,
): AsyncIterable<Found | undefined> {
  const pending: Promise<Found | undefined>[] = [];
  let next = 0;
  const start = () => {
    const promise = map(items[next++]!);
    // Awaited in order below; until then a failure must not count as unhandled.
    promise.catch(() => undefined);
    pending.push(promise);
  };
  try {
    while (next < items.length && pending.length < readAhead) start();
    while (pending.length > 0) {
      const found = await pending.shift()!;
      if (next < items.length) start();
      yield found;
    }
  } finally {
    for (const promise of pending.splice(0)) {
      const found = await promise.catch(() => undefined);
      if (found?.entry.discard) found.entry.discard();
    }
  }
}

/** What is at `relative` (undefined when nothing is), with a small file's content read. */
async function look(root: string, relative: string): Promise<Found | undefined> {
  const absolute = path.join(root, relative);
  const info = await lstatBig(absolute, { bigint: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!info) return undefined;
  const mode = Number(info.mode) & 0o7777;
  const size = Number(info.size);
  if (info.isDirectory()) return { relative, info, entry: { path: relative, type: 'directory', mode, size: 0 } };
  if (info.isSymbolicLink()) {
    const linkname = (await readLink(absolute)) as string;
    return { relative, info, entry: { path: relative, type: 'symlink', mode, size: 0, linkname } };
  }
  if (!info.isFile()) return { relative, info, entry: { path: relative, type: 'other', mode, size: 0 } };
  // O_NOFOLLOW: a file swapped for a symlink after the lstat is refused, never followed.
  const fd = await openFile(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  if (size <= wholeFileSize) {
    try {
      // One byte more than lstat said, to notice a file that grew since.
      const buffer = Buffer.allocUnsafe(size + 1);
      const bytesRead = await readFully(fd, buffer);
      if (bytesRead !== size)
        throw new Error(`'${relative}' changed while it was read (${bytesRead} of ${size} bytes)`);
      return { relative, info, entry: { path: relative, type: 'file', mode, size, content: buffer.subarray(0, size) } };
    } finally {
      await closeFile(fd);
    }
  }
  const body = createReadStream('', { fd, highWaterMark: readBlockSize(size) });
  return { relative, info, entry: { path: relative, type: 'file', mode, size, body, discard: () => body.destroy() } };
}

/** Reads into `buffer` until it is full or the file ends; the bytes read. */
async function readFully(fd: number, buffer: Buffer): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await readFile(fd, buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** The entry, or a hard link to the first path seen of its inode (decided in walk order, so deterministic). */
function linkedOrSelf(found: Found, inodes: Map<string, string>): SourceEntry {
  const { info, entry } = found;
  if (entry.type !== 'file' || info.nlink <= 1n) return entry;
  const inode = `${info.dev}:${info.ino}`;
  const first = inodes.get(inode);
  if (first === undefined) {
    inodes.set(inode, entry.path);
    return entry;
  }
  entry.discard?.();
  return { path: entry.path, type: 'link', mode: entry.mode, size: 0, linkname: first };
}
