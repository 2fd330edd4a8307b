/** The S3 log store against the real MinIO: chunked records, flushed while a step runs, read incrementally. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createS3LogStore } from '../../activities/log-store-s3';
import type { LogRecord, LogStore } from '../../activities/log-store';
import { createTestStore, type TestStore } from '../helpers/stores';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const line = (record: LogRecord) => `${record.job}/${record.step}#${record.attempt} ${record.stream}: ${record.line}`;

describe('S3 log store (real MinIO)', () => {
  let subject: TestStore;
  let logs: LogStore;
  before(async () => {
    subject = await createTestStore('s3');
    logs = createS3LogStore({ client: subject.s3!.client, bucket: subject.s3!.bucket, flushMs: 200 });
  });
  after(() => subject.dispose());

  it('makes lines readable while the writer is still open, then reads only what is new', async () => {
    const writer = await logs.writer('run-logs-1', 'build', 'compile', 1);
    writer.write({ stream: 'stdout', job: 'build', step: 'compile', attempt: 1, line: 'first' });
    writer.write({ stream: 'stderr', job: 'build', step: 'compile', attempt: 1, line: 'ünïcode ✓' });
    const first = await waitFor('the first flush', async () => {
      const read = await logs.read('run-logs-1');
      return read.records.length === 2 ? read : undefined;
    });
    assert.deepEqual(first.records.map(line), ['build/compile#1 stdout: first', 'build/compile#1 stderr: ünïcode ✓']);
    assert.match(first.records[0]!.ts, /^\d{4}-\d\d-\d\dT/);
    writer.write({ stream: 'stdout', job: 'build', step: 'compile', attempt: 1, line: 'third' });
    await writer.close();
    const next = await logs.read('run-logs-1', first.offsets);
    assert.deepEqual(next.records.map(line), ['build/compile#1 stdout: third']);
    assert.deepEqual((await logs.read('run-logs-1', next.offsets)).records, []);
  });

  it('keeps streams apart and in order, and a replacement writer continues after a crashed one', async () => {
    const a = await logs.writer('run-logs-2', 'test (node=18)', 'unit', 1);
    const b = await logs.writer('run-logs-2', 'build', 'compile', 1);
    for (let i = 0; i < 3; i += 1) {
      a.write({ stream: 'stdout', job: 'test (node=18)', step: 'unit', attempt: 1, line: `a${i}` });
      b.write({ stream: 'stdout', job: 'build', step: 'compile', attempt: 1, line: `b${i}` });
    }
    await Promise.all([a.close(), b.close()]);
    // The same step attempt again, as after a worker crash: its earlier chunks stay.
    const again = await logs.writer('run-logs-2', 'test (node=18)', 'unit', 1);
    again.write({ stream: 'stdout', job: 'test (node=18)', step: 'unit', attempt: 1, line: 'a-resumed' });
    await again.close();
    const { records } = await logs.read('run-logs-2');
    assert.deepEqual(
      records.map((record) => record.line),
      ['b0', 'b1', 'b2', 'a0', 'a1', 'a2', 'a-resumed'],
    );
  });

  it('flushes early when a step prints a lot, and a run without logs reads as empty', async () => {
    const small = createS3LogStore({
      client: subject.s3!.client,
      bucket: subject.s3!.bucket,
      flushMs: 60_000,
      maxChunkBytes: 1000,
    });
    const writer = await small.writer('run-logs-3', 'loud', 'spam', 1);
    for (let i = 0; i < 50; i += 1)
      writer.write({ stream: 'stdout', job: 'loud', step: 'spam', attempt: 1, line: `line ${i} ${'x'.repeat(40)}` });
    const early = await waitFor('an early flush', async () => {
      const read = await small.read('run-logs-3');
      return read.records.length > 0 ? read : undefined;
    });
    assert.equal(early.records[0]!.line.startsWith('line 0 '), true, 'chunks arrive in order');
    await writer.close();
    assert.equal((await small.read('run-logs-3')).records.length, 50);
    assert.deepEqual((await small.read('run-no-logs')).records, []);
  });
});
