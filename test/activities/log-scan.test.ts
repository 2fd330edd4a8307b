/**
 * The investigation's one log scan against the real filesystem log store: a step's log larger than one batch is
 * read once, batch by batch, and every pattern's matches, counts and line numbers come out of that one pass.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scanStepLog } from '../../activities/investigation/log-search';
import { createFsLogStore, maxLogReadBytes, type LogStore } from '../../activities/log-store';
import { slug } from '../../activities/names';
import { runLogPatterns } from '../../investigate/catalogue';
import { matchesFor } from '../../investigate/log-scan';

/** Bytes this process has read through read(2) and friends so far (Linux's /proc/self/io `rchar`). */
async function bytesReadSoFar(): Promise<number> {
  return Number(/^rchar: (\d+)$/m.exec(await readFile('/proc/self/io', 'utf8'))?.[1]);
}

async function writeLines(store: LogStore, step: string, attempt: number, lines: string[]): Promise<void> {
  const writer = await store.writer('run-scan', 'build', step, attempt);
  for (const [index, line] of lines.entries()) {
    writer.write({ stream: 'stderr', job: 'build', step, attempt, line });
    if (index % 2000 === 1999) await new Promise((resolve) => setImmediate(resolve));
  }
  await writer.close();
}

describe("the investigation's log scan on the filesystem log store", () => {
  let root = '';
  let store: LogStore;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'conveyor-log-scan-'));
    store = createFsLogStore(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("reads a step's log larger than a batch once and finds every pattern's lines with their numbers", async () => {
    const first = Array.from({ length: 50_000 }, (_, index) => `attempt one ${index} ${'.'.repeat(60)}`);
    const second = Array.from({ length: 100_000 }, (_, index) =>
      index === 1234 ? 'bash: make: command not found' : `compiling ${index} ${'.'.repeat(60)}`,
    );
    second.push('Error: ENOSPC: no space left on device, write', 'npm ERR! Tests: 2 failed');
    await writeLines(store, 'compile', 1, first);
    await writeLines(store, 'compile', 2, second);
    await writeLines(store, 'lint', 1, ['command not found in another step']);
    const logBytes = (await stat(path.join(root, slug('run-scan'), 'logs', 'build.compile.2.jsonl'))).size;
    assert.ok(logBytes > 2 * maxLogReadBytes, 'the log is larger than two batches');

    let batches = 0;
    const readBefore = await bytesReadSoFar();
    const scan = await scanStepLog(
      store,
      'run-scan',
      { job: 'build', step: 'compile' },
      { patterns: runLogPatterns, onBatch: () => (batches += 1) },
    );
    const read = (await bytesReadSoFar()) - readBefore;

    assert.ok(batches > 2, `read in ${batches} batches`);
    assert.ok(read < 2 * logBytes, `${read} bytes read for a ${logBytes}-byte log (and a smaller first attempt)`);
    assert.equal(scan.linesSearched, first.length + second.length);
    assert.equal(scan.lastAttempt, 2);
    assert.deepEqual(
      scan.tail.slice(-2).map((line) => `${line.attempt}:${line.lineNumber} ${line.line}`),
      ['2:100001 Error: ENOSPC: no space left on device, write', '2:100002 npm ERR! Tests: 2 failed'],
    );
    assert.deepEqual(
      matchesFor(scan, ['command not found']).map((line) => `${line.attempt}:${line.lineNumber} ${line.line}`),
      ['2:1235 bash: make: command not found'],
      "the other step's line is not the failing step's",
    );
    assert.equal(scan.patterns.find((entry) => entry.pattern === 'enospc')?.count, 1);
  });
});
