/**
 * Deterministic tar packing (docs/artifacts.md): the same files give the same bytes, and so the same digest, on any
 * host. Entries must arrive in canonical order (`comparePaths`); every header is normalised — owner 0:0 with no
 * names, one fixed modification time, mode 0755 for directories and executable files, 0644 for other files — so
 * that only paths, contents, link targets and the executable bit reach the archive.
 */
import { Readable } from 'node:stream';
import tar, { type Header } from 'tar-stream';

/** The header fields Conveyor sets on an entry. */
export type PackHeader = Partial<Header> & Pick<Header, 'name'>;
import { comparePaths, discardEntry, type SourceEntry } from './archive-entry';

/** The modification time of every entry: 1980-01-01, the earliest time zip and many tools accept. */
export const normalisedMtime = new Date('1980-01-01T00:00:00Z');

/** What an archive holds. */
export interface PackSummary {
  /** Regular files (hard links included). */
  files: number;
  directories: number;
  symlinks: number;
  /** Bytes of file content. */
  contentBytes: number;
}

/** The source did not list entries in canonical order; the caller sorts them another way and packs again. */
export class OutOfOrderError extends Error {
  constructor(
    readonly previous: string,
    readonly path: string,
  ) {
    super(`archive entries out of order: '${path}' came after '${previous}'`);
    this.name = 'OutOfOrderError';
  }
}

/** An entry that cannot be packed (a device, a fifo, a hard link to a file outside the artifact). */
export class UnpackableEntryError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`'${path}' ${problem}`);
    this.name = 'UnpackableEntryError';
  }
}

/** How `packArchive` packs. */
export interface PackOptions {
  /** Owner written on every entry (default 0:0). Extraction into a workspace uses the step user's. */
  owner?: { uid: number; gid: number };
  /** Refuse entries out of canonical order (default true; false re-packs an archive in its own order). */
  ordered?: boolean;
}

/**
 * Packs `entries` into a tar stream. Read `stream`; `summary` resolves when the last entry is packed and rejects
 * (after destroying `stream`) on an error.
 */
export function packArchive(
  entries: AsyncIterable<SourceEntry>,
  options: PackOptions = {},
): { stream: Readable; summary: Promise<PackSummary> } {
  const pack = tar.pack();
  const summary = writeEntries(pack, entries, options).then(
    (result) => {
      pack.finalize();
      return result;
    },
    (error: unknown) => {
      pack.destroy(error as Error);
      throw error;
    },
  );
  // The reader sees the failure as a stream error; the summary promise is awaited by the caller too.
  summary.catch(() => undefined);
  return { stream: Readable.from(pack, { objectMode: false }), summary };
}

async function writeEntries(
  pack: tar.Pack,
  entries: AsyncIterable<SourceEntry>,
  { owner, ordered = true }: PackOptions,
): Promise<PackSummary> {
  const summary: PackSummary = { files: 0, directories: 0, symlinks: 0, contentBytes: 0 };
  const packedFiles = new Set<string>();
  let previous: string | undefined;
  for await (const entry of entries) {
    if (ordered && previous !== undefined && comparePaths(previous, entry.path) >= 0) {
      discardEntry(entry);
      throw new OutOfOrderError(previous, entry.path);
    }
    previous = entry.path;
    const header = normalisedHeader(entry, packedFiles);
    if (owner) Object.assign(header, owner);
    if (entry.type === 'file') {
      const content = entry.content;
      if (content) {
        // tar-stream sizes the header after a buffer; a stream it checks against the header instead.
        if (content.length !== entry.size) throw new Error(`'${entry.path}': content is not ${entry.size} bytes`);
        await new Promise<void>((resolve, reject) =>
          pack.entry(header, content, (error) => (error ? reject(error) : resolve())),
        );
      } else {
        await writeFileEntry(pack, header, entry.body ?? Readable.from([]));
      }
      summary.files += 1;
      summary.contentBytes += entry.size;
      packedFiles.add(entry.path);
    } else {
      await new Promise<void>((resolve, reject) => pack.entry(header, (error) => (error ? reject(error) : resolve())));
      if (entry.type === 'directory') summary.directories += 1;
      else if (entry.type === 'symlink') summary.symlinks += 1;
      else summary.files += 1;
    }
  }
  return summary;
}

/** Streams one file's content into the archive; tar-stream checks that it has exactly the header's size. */
function writeFileEntry(pack: tar.Pack, header: PackHeader, body: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
    body.once('error', (error) => {
      sink.destroy(error);
      reject(error);
    });
    body.pipe(sink);
  });
}

/** The header an entry is packed with: everything but path, size, type, link target and the x bit normalised. */
export function normalisedHeader(entry: SourceEntry, packedFiles: ReadonlySet<string> = new Set()): PackHeader {
  const base = { name: entry.path, uid: 0, gid: 0, uname: '', gname: '', mtime: normalisedMtime };
  switch (entry.type) {
    case 'directory':
      return { ...base, type: 'directory', mode: 0o755 };
    case 'file':
      return { ...base, type: 'file', size: entry.size, mode: entry.mode & 0o111 ? 0o755 : 0o644 };
    case 'symlink':
      return { ...base, type: 'symlink', linkname: entry.linkname ?? '', mode: 0o777 };
    case 'link':
      if (!entry.linkname || !packedFiles.has(entry.linkname)) {
        throw new UnpackableEntryError(
          entry.path,
          `is a hard link to '${entry.linkname}', which is not in the artifact`,
        );
      }
      return { ...base, type: 'link', linkname: entry.linkname, mode: entry.mode & 0o111 ? 0o755 : 0o644 };
    default:
      throw new UnpackableEntryError(
        entry.path,
        'is not a file, directory or link (devices and fifos cannot be artifacts)',
      );
  }
}
