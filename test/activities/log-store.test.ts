/**
 * The log stores' read path: a follower gets each record once, never a half-written line, reads only the bytes
 * added since its last read, and catches up on a large log in bounded batches — the filesystem store on a real
 * directory, the S3 store on the real MinIO.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFsLogStore, maxLogReadBytes, type LogRecord, type LogStore } from '../../activities/log-store';
import { createS3LogStore } from '../../activities/log-store-s3';
import { slug } from '../../activities/names';
import { createTestStore, type TestStore } from '../helpers/stores';

let root = '';
let store: LogStore;

/** Bytes this process has read through read(2) and friends so far (Linux's /proc/self/io `rchar`). */
async function bytesReadSoFar(): Promise<number> {
  const io = await readFile('/proc/self/io', 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)?.[1]);
}

/** Writes `lines` to one step attempt's log. */
async function writeLines(runId: string, step: string, lines: string[], into = store): Promise<void> {
  const writer = await into.writer(runId, 'build', step, 1);
  for (const [index, line] of lines.entries()) {
    writer.write({ stream: 'stdout', job: 'build', step, attempt: 1, line });
    // Output arrives in pieces, as from a container: the writer gets a chance to flush between them.
    if (index % 2000 === 1999) await new Promise((resolve) => setImmediate(resolve));
  }
  await writer.close();
}

/** Reads until the store says nothing is left, as a follower catching up does. */
async function readAll(runId: string, offsets = new Map<string, number>(), from = store) {
  const records: LogRecord[] = [];
  let calls = 0;
  for (;;) {
    const read = await from.read(runId, offsets);
    calls += 1;
    records.push(...read.records);
    offsets = read.offsets;
    if (!read.more) return { records, offsets, calls };
  }
}

describe('the filesystem log store', () => {
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'conveyor-log-store-'));
    store = createFsLogStore(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('returns each record once across reads and holds back a half-written line', async () => {
    await writeLines('run-a', 'compile', ['one', 'two']);
    const first = await readAll('run-a');
    assert.deepEqual(
      first.records.map((record) => record.line),
      ['one', 'two'],
    );
    const file = path.join(root, slug('run-a'), 'logs', 'build.compile.1.jsonl');
    const record = JSON.stringify({ ts: new Date().toISOString(), stream: 'stdout', job: 'build', step: 'compile' });
    await appendFile(file, record.slice(0, 20));
    assert.deepEqual((await store.read('run-a', first.offsets)).records, [], 'nothing until the line is complete');
    await appendFile(file, `${record.slice(20, -1)},"attempt":1,"line":"three"}\n`);
    const next = await store.read('run-a', first.offsets);
    assert.deepEqual(
      next.records.map((r) => r.line),
      ['three'],
    );
  });

  it('reads only the bytes added since the last read, not the whole file again', async () => {
    const big = Array.from({ length: 200_000 }, (_, index) => `line ${index} ${'x'.repeat(60)}`);
    await writeLines('run-b', 'flood', big);
    const caughtUp = await readAll('run-b');
    assert.equal(caughtUp.records.length, big.length);
    await writeLines('run-b', 'flood', ['the last line']);
    const before = await bytesReadSoFar();
    const next = await store.read('run-b', caughtUp.offsets);
    const read = (await bytesReadSoFar()) - before;
    assert.deepEqual(
      next.records.map((record) => record.line),
      ['the last line'],
    );
    // The log holds about 25 MB; one more record is about 150 bytes.
    assert.ok(read < 64 * 1024, `read ${read} bytes for one new record`);
  });

  it('catches up on a log larger than one batch in bounded batches, in order', async () => {
    const lines = Array.from({ length: 120_000 }, (_, index) => `record ${index}`);
    await writeLines('run-c', 'flood', lines);
    const { records, calls } = await readAll('run-c');
    assert.ok(calls > 1, 'more than one batch');
    assert.deepEqual(
      records.map((record) => record.line),
      lines,
    );
    assert.ok(maxLogReadBytes < 120_000 * 80, 'the log is larger than one batch');
  });

  it('returns a line longer than a whole batch in one piece', async () => {
    const long = 'y'.repeat(maxLogReadBytes + 1000);
    await writeLines('run-d', 'wide', ['short', long, 'after']);
    const { records } = await readAll('run-d');
    assert.deepEqual(
      records.map((record) => record.line.length),
      [5, long.length, 5],
    );
  });
});

describe('the S3 log store (real MinIO)', () => {
  let subject: TestStore;
  let s3: LogStore;
  before(async () => {
    subject = await createTestStore('s3');
    // A flush interval no test waits for: what it reads, the first flush or a full chunk put there.
    s3 = createS3LogStore({ client: subject.s3!.client, bucket: subject.s3!.bucket, flushMs: 600_000 });
  });
  after(() => subject.dispose());

  it("makes a step's first line readable at once, not at the next periodic flush", async () => {
    const writer = await s3.writer('run-first', 'build', 'compile', 1);
    writer.write({ stream: 'stdout', job: 'build', step: 'compile', attempt: 1, line: 'first' });
    let read = await s3.read('run-first');
    for (let i = 0; i < 300 && read.records.length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      read = await s3.read('run-first');
    }
    assert.deepEqual(
      read.records.map((record) => record.line),
      ['first'],
    );
    await writer.close();
  });

  it('catches up on a log larger than one batch in bounded batches, in order', async () => {
    const lines = Array.from({ length: 120_000 }, (_, index) => `record ${index}`);
    await writeLines('run-s3-big', 'flood', lines, s3);
    const { records, calls } = await readAll('run-s3-big', new Map(), s3);
    assert.ok(calls > 1, 'more than one batch');
    assert.deepEqual(
      records.map((record) => record.line),
      lines,
    );
  });
});
