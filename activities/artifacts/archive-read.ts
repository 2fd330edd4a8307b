/**
 * Reading stored archives safely: every entry passes the extraction guard (path-safety.ts) before anything is done
 * with it. Used in three ways — inspecting a whole archive before extraction starts (so an unsafe entry refuses
 * the artifact with the workspace unchanged), re-packing it with the step user as owner for Docker's archive API,
 * and extracting it into a local directory (`conveyor artifacts get`).
 */
import { link, mkdir, open, readdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { writeContent, type SourceEntry } from './archive-entry';
import type { ArtifactCompression } from './catalog';
import { ExtractionGuard, type SafeEntry } from './path-safety';
import { chunkSize } from '../store/scratch';

/** What an archive holds. */
export interface ArchiveContents {
  files: number;
  directories: number;
  symlinks: number;
  contentBytes: number;
}

/** Bytes that are not a readable tar archive. */
export class InvalidArchiveError extends Error {
  constructor(cause: unknown) {
    super(`not a readable tar archive: ${(cause as Error).message ?? String(cause)}`);
    this.name = 'InvalidArchiveError';
  }
}

/**
 * The entries of an archive, each checked by a fresh `ExtractionGuard` (which throws `UnsafeEntryError`). A file's
 * `body` must be read or drained before the next entry is asked for.
 */
export async function* archiveEntries(source: Readable, compression: ArtifactCompression): AsyncIterable<SourceEntry> {
  const extract = tar.extract();
  const input = compression === 'gzip' ? source.pipe(createGunzip({ chunkSize })) : source;
  const fail = (error: Error) => extract.destroy(new InvalidArchiveError(error));
  source.once('error', fail);
  input.once('error', fail);
  input.pipe(extract as unknown as NodeJS.WritableStream);
  const guard = new ExtractionGuard();
  try {
    for await (const entry of extractEntries(extract)) {
      const safe = guard.check(entry.header);
      if (!safe) {
        entry.resume();
        continue;
      }
      yield {
        path: safe.path,
        type: safe.type,
        mode: entry.header.mode ?? 0o644,
        size: safe.type === 'file' ? (entry.header.size ?? 0) : 0,
        linkname: safe.linkname,
        body: safe.type === 'file' ? Readable.from(entry, { objectMode: false, highWaterMark: chunkSize }) : undefined,
      };
      // Whatever the consumer left unread is skipped, so the extractor can go on.
      entry.resume();
    }
  } finally {
    input.unpipe();
    source.destroy();
    extract.destroy();
  }
}

/** Iterates tar-stream's entries, turning its parse errors into InvalidArchiveError. */
async function* extractEntries(
  extract: tar.Extract,
): AsyncIterable<tar.Extract extends AsyncIterable<infer T> ? T : never> {
  const iterator = extract[Symbol.asyncIterator]();
  for (;;) {
    let next;
    try {
      next = await iterator.next();
    } catch (error) {
      throw error instanceof InvalidArchiveError ? error : new InvalidArchiveError(error);
    }
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Checks every entry of an archive and counts what it holds; throws on the first unsafe entry. `visit` sees each
 * safe entry in order (the workspace check of workspace-extract.ts); the next waits for it. Headers only, from
 * tar-stream's entry events: no stream per entry, which makes it several times faster than iterating
 * `archiveEntries` on archives of many small files (docs/benchmarks.md, "Source checkout: where the time went").
 */
export async function inspectArchive(
  source: Readable,
  compression: ArtifactCompression,
  visit?: (entry: SafeEntry) => Promise<void> | void,
): Promise<ArchiveContents> {
  const contents: ArchiveContents = { files: 0, directories: 0, symlinks: 0, contentBytes: 0 };
  const guard = new ExtractionGuard();
  const extract = tar.extract();
  const input = compression === 'gzip' ? source.pipe(createGunzip({ chunkSize })) : source;
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      const unreadable = (error: Error) =>
        fail(error instanceof InvalidArchiveError ? error : new InvalidArchiveError(error));
      source.once('error', unreadable);
      input.once('error', unreadable);
      extract.once('error', unreadable);
      extract.on('entry', (header, body, next) => {
        // The next entry comes once this one's body is skipped and `visit` is done with it.
        let waiting = 2;
        const done = () => {
          waiting -= 1;
          if (waiting === 0) next();
        };
        body.once('end', done);
        body.resume();
        if (failed) return done();
        let safe;
        try {
          safe = guard.check(header);
          if (safe) {
            if (safe.type === 'directory') contents.directories += 1;
            else if (safe.type === 'symlink') contents.symlinks += 1;
            else contents.files += 1;
            if (safe.type === 'file') contents.contentBytes += header.size ?? 0;
          }
          const visited = safe && visit?.(safe);
          if (!visited) return done();
          visited.then(done, (error: unknown) => {
            fail(error as Error);
            done();
          });
        } catch (error) {
          fail(error as Error);
          done();
        }
      });
      extract.once('finish', () => resolve());
      input.pipe(extract as unknown as NodeJS.WritableStream);
    });
  } finally {
    input.unpipe();
    source.destroy();
    extract.destroy();
  }
  return contents;
}

/**
 * Extracts an archive into `dir`, which must not exist or be empty (so no symlink already there can redirect a
 * write). Files get their archived mode (0644 or 0755), links their targets. On failure `dir` is left as it was.
 */
export async function extractToDirectory(
  source: Readable,
  compression: ArtifactCompression,
  dir: string,
): Promise<ArchiveContents> {
  const existing = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing && existing.length > 0) {
    throw new Error(`${dir} is not empty; extract into a new or empty directory`);
  }
  await mkdir(dir, { recursive: true });
  const contents: ArchiveContents = { files: 0, directories: 0, symlinks: 0, contentBytes: 0 };
  // Directories known to exist (each file's parent is created once, not once per file).
  const made = new Set<string>([dir]);
  try {
    for await (const entry of archiveEntries(source, compression)) {
      const target = path.join(dir, entry.path);
      if (entry.type === 'directory') {
        await mkdir(target, { recursive: true, mode: 0o755 });
        made.add(target);
        contents.directories += 1;
        continue;
      }
      const parent = path.dirname(target);
      if (!made.has(parent)) {
        await mkdir(parent, { recursive: true });
        made.add(parent);
      }
      if (entry.type === 'symlink') {
        await symlink(entry.linkname ?? '', target);
        contents.symlinks += 1;
      } else if (entry.type === 'link') {
        await link(path.join(dir, entry.linkname ?? ''), target);
        contents.files += 1;
      } else {
        const mode = entry.mode & 0o111 ? 0o755 : 0o644;
        const handle = await open(target, 'wx', mode);
        // The process umask may have cleared bits the archive asked for.
        await handle.chmod(mode).catch(async (error: unknown) => {
          await handle.close();
          throw error;
        });
        await writeContent(handle, entry);
        contents.files += 1;
        contents.contentBytes += entry.size;
      }
    }
  } catch (error) {
    if (existing) {
      for (const name of await readdir(dir)) await rm(path.join(dir, name), { recursive: true, force: true });
    } else {
      await rm(dir, { recursive: true, force: true });
    }
    throw error;
  }
  return contents;
}
