/**
 * A run's result and status pages stay well under Temporal's payload limits at 5,000 jobs, whatever the jobs hold.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobState, PipelineRunStatus } from '../../../workflows/pipeline-run-messages';
import { failureMessage, runResult, statusPage } from '../../../workflows/run-result';

/** Temporal's own warning threshold for one payload. */
const payloadWarning = 512 * 1024;

/** A finished job of `steps` steps, with a full 20-line tail of long lines when it failed. */
function jobState(index: number, status: JobState['status'], steps = 5): JobState {
  const failed = status === 'failed';
  return {
    status,
    baseName: `job-${index}`,
    attempts: 1,
    reason: failed ? 'exit_code' : undefined,
    exitCode: failed ? 2 : undefined,
    failedStep: failed ? 'step-4' : undefined,
    startedAt: '2026-11-23T20:00:00.000Z',
    finishedAt: '2026-11-23T20:00:01.000Z',
    steps: Array.from({ length: steps }, (_, step) => ({
      name: `step-${step}`,
      status: failed && step === steps - 1 ? 'failed' : 'success',
      attempts: 1,
      exitCode: failed && step === steps - 1 ? 2 : 0,
      startedAt: '2026-11-23T20:00:00.000Z',
      finishedAt: '2026-11-23T20:00:01.000Z',
      logTail: failed && step === steps - 1 ? Array.from({ length: 20 }, () => 'x'.repeat(500)) : undefined,
    })),
  };
}

/** A finished run of `size` jobs, every `failEvery`-th of which failed. */
function runOf(size: number, failEvery: number): PipelineRunStatus {
  const jobs: Record<string, JobState> = {};
  for (let index = 0; index < size; index += 1) {
    jobs[`job-${index}`] = jobState(index, index % failEvery === 0 ? 'failed' : 'success');
  }
  return { pipeline: 'large', status: 'failed', startedAt: '2026-11-23T20:00:00.000Z', jobs };
}

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('run result and status pages', () => {
  test('a small run returns every job in full, with counts', () => {
    const status = runOf(10, 5);
    const result = runResult(status);
    assert.deepEqual(Object.keys(result.jobs), Object.keys(status.jobs));
    assert.equal(result.partial, undefined);
    assert.deepEqual(result.counts, { failed: 2, success: 8 });
    assert.equal(result.totalJobs, 10);
  });

  test('the result of a 5,000-job run stays well under the payload limit and keeps the failed jobs first', () => {
    for (const failEvery of [1, 10, 5000]) {
      const status = runOf(5000, failEvery);
      assert.ok(size(status) > 2 * 1024 * 1024, 'the whole status would be over the 2 MiB limit');
      const result = runResult(status);
      assert.ok(size(result) < payloadWarning / 2, `result of ${size(result)} bytes (failing every ${failEvery})`);
      assert.equal(result.partial, true);
      assert.equal(result.totalJobs, 5000);
      assert.equal(result.counts?.failed, Math.ceil(5000 / failEvery));
      const shown = Object.values(result.jobs);
      assert.ok(shown.length > 0 && shown.every((job) => job.status === 'failed'));
      assert.equal(Object.keys(result.jobs)[0], 'job-0');
      assert.deepEqual(
        shown[0]?.steps.map((step) => step.name),
        ['step-4'],
        'a summarised job keeps its failing step only',
      );
    }
  });

  test('status pages of a 5,000-job run are bounded, and together hold every job once, in order', () => {
    const status = runOf(5000, 3);
    const names: string[] = [];
    let pages = 0;
    for (let offset: number | undefined = 0; offset !== undefined; pages += 1) {
      const page = statusPage(status, { offset });
      assert.ok(size(page) <= 1024 * 1024 + 4096, `page of ${size(page)} bytes`);
      assert.equal(page.totalJobs, 5000);
      names.push(...Object.keys(page.jobs));
      offset = page.nextOffset;
    }
    assert.ok(pages > 1, 'the status needs several pages');
    assert.deepEqual(names, Object.keys(status.jobs));
  });

  test('a page request honours its limit, and a small run fits on one page', () => {
    const status = runOf(10, 5);
    assert.deepEqual(Object.keys(statusPage(status, { offset: 2, limit: 3 }).jobs), ['job-2', 'job-3', 'job-4']);
    const whole = statusPage(status);
    assert.equal(whole.nextOffset, undefined);
    assert.equal(whole.partial, undefined);
    assert.equal(Object.keys(whole.jobs).length, 10);
  });

  test('the failure message names the first failed job, its step, why, and how many others failed', () => {
    assert.equal(
      failureMessage(runOf(10, 5)),
      "pipeline 'large' failed: job 'job-0' failed in step 'step-4' (exit_code, exit code 2) and 1 other job(s) failed",
    );
  });
});
