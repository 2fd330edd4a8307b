/**
 * Splitting a tar stream for parallel extraction (activities/artifacts/tar-split.ts): every entry reaches exactly one
 * part with its bytes intact — long names carried by their extended headers — directories reach every part, a hard
 * link the part holding its target, and each part is a complete archive.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { splitTar } from '../../activities/artifacts/tar-split';

interface Seen {
  name: string;
  type: string;
  body: string;
  linkname?: string;
}

async function packed(): Promise<Buffer> {
  const pack = tar.pack();
  const long = `deep/${'x'.repeat(120)}/file.txt`;
  pack.entry({ name: 'deep', type: 'directory', mode: 0o755 });
  pack.entry({ name: `deep/${'x'.repeat(120)}`, type: 'directory', mode: 0o755 });
  pack.entry({ name: long, mode: 0o644 }, 'long\n');
  for (let index = 0; index < 7; index += 1) pack.entry({ name: `deep/f${index}.txt` }, `file ${index}\n`);
  pack.entry({ name: 'deep/big.bin' }, Buffer.alloc(70_000, 7));
  pack.entry({ name: 'deep/link', type: 'symlink', linkname: 'f1.txt' });
  pack.entry({ name: 'deep/hard', type: 'link', linkname: 'deep/f5.txt' });
  pack.entry({ name: 'deep/empty.txt' }, '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function entriesOf(stream: Readable): Promise<Seen[]> {
  const seen: Seen[] = [];
  const extract = tar.extract();
  stream.once('error', (error) => extract.destroy(error));
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    seen.push({
      name: entry.header.name,
      type: entry.header.type ?? 'file',
      body: body.length > 100 ? `${body.length} bytes` : body.toString(),
      ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}),
    });
  }
  return seen;
}

/** The archive fed in small, unaligned chunks, as a network stream would. */
function chunked(buffer: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += size) pieces.push(buffer.subarray(offset, offset + size));
  return Readable.from(pieces);
}

describe('splitTar', () => {
  it('gives every entry to exactly one part, directories to all, a hard link to its target’s part', async () => {
    const archive = await packed();
    const original = await entriesOf(Readable.from([archive]));
    for (const [ways, chunkSize] of [
      [1, 65_536],
      [3, 777],
      [4, 100_000],
    ] as const) {
      const parts = await Promise.all(splitTar(chunked(archive, chunkSize), ways).map(entriesOf));
      const directories = original.filter((entry) => entry.type === 'directory');
      for (const part of parts) {
        assert.deepEqual(
          part.filter((entry) => entry.type === 'directory'),
          directories,
        );
      }
      const others = parts.flat().filter((entry) => entry.type !== 'directory');
      const byName = (a: Seen, b: Seen) => a.name.localeCompare(b.name);
      assert.deepEqual(
        [...others].sort(byName),
        original.filter((entry) => entry.type !== 'directory').sort(byName),
        `${ways} ways`,
      );
      const holding = (name: string) => parts.findIndex((part) => part.some((entry) => entry.name === name));
      assert.equal(holding('deep/hard'), holding('deep/f5.txt'));
      if (ways > 1) assert.ok(parts.every((part) => part.some((entry) => entry.type === 'file')));
    }
  });

  it('a truncated archive fails every part', async () => {
    const archive = await packed();
    const parts = splitTar(Readable.from([archive.subarray(0, 1500)]), 2);
    await Promise.all(parts.map((part) => assert.rejects(entriesOf(part), /truncated/)));
  });
});
