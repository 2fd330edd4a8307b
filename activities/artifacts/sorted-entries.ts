/**
 * Canonical order for a source that does not walk in it (a Docker engine other than Docker's own, a hand-made
 * archive): file contents are spooled, one after the other, to a local scratch file, the entries sorted in memory,
 * and yielded again with their contents read back from the spool.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { comparePaths, entryBody, type SourceEntry } from './archive-entry';
import { ioBlockSize, readBlockSize, scratchPath } from '../store/scratch';

/** Entries of `source` in canonical order; call `release` when done with them to remove the spool. */
export async function sortEntries(
  source: AsyncIterable<SourceEntry>,
  spoolDir: string,
): Promise<{ entries: AsyncIterable<SourceEntry>; release: () => Promise<void> }> {
  const spool = await scratchPath(spoolDir);
  const release = () => rm(spool, { force: true });
  const index: (Omit<SourceEntry, 'body' | 'discard'> & { offset: number })[] = [];
  const out = createWriteStream(spool, { highWaterMark: ioBlockSize });
  let offset = 0;
  try {
    for await (const entry of source) {
      index.push({
        path: entry.path,
        type: entry.type,
        mode: entry.mode,
        size: entry.size,
        linkname: entry.linkname,
        offset,
      });
      if (entry.type !== 'file') continue;
      for await (const chunk of entryBody(entry)) {
        offset += (chunk as Buffer).length;
        if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
    }
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  } catch (error) {
    out.destroy();
    await release();
    throw error;
  }
  index.sort((a, b) => comparePaths(a.path, b.path));
  async function* entries(): AsyncIterable<SourceEntry> {
    for (const { offset: start, ...entry } of index) {
      if (entry.type !== 'file') {
        yield entry;
        continue;
      }
      const body =
        entry.size === 0
          ? Readable.from([])
          : createReadStream(spool, { start, end: start + entry.size - 1, highWaterMark: readBlockSize(entry.size) });
      yield { ...entry, body, discard: () => body.destroy() };
    }
  }
  return { entries: entries(), release };
}
