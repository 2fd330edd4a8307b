/**
 * Scale-out (docs/operations.md, "Many worker hosts"): four worker processes with separate data directories share
 * one Temporal server and one store; a run of 200 one-step jobs finishes with every job run exactly once (one
 * completed step activity each, first attempt, no retries) and the work spread over all four workers.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { activityRuns } from '../helpers/activity-history';
import { pipelineFrom } from '../helpers/artifact-runs';
import { succeededRun } from '../helpers/pool-runs';
import {
  closeTestEnvironment,
  leftoversOf,
  terminateOpenWorkflows,
  testEnvironment,
  uniqueTaskQueue,
} from '../helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

const jobCount = 200;
const workerCount = 4;

describe('four workers, 200 one-step jobs', () => {
  const taskQueue = uniqueTaskQueue('scale');
  const workers: WorkerProcess[] = [];
  let scratch = '';
  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'conveyor-scale-'));
    // Started together; each bundles the workflows, which takes minutes on a loaded machine.
    const started = await Promise.allSettled(
      Array.from({ length: workerCount }, (_, index) =>
        startWorkerProcess(
          taskQueue,
          {
            CONVEYOR_DATA_DIR: path.join(scratch, `host-${index}`),
            CONVEYOR_WORKER_NAME: `host-${index}`,
            // Fewer slots than jobs per worker, so no one worker can take the whole run at once.
            CONVEYOR_MAX_CONCURRENT_STEPS: '8',
          },
          600_000,
        ),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') workers.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  });
  after(async () => {
    const env = await testEnvironment();
    await terminateOpenWorkflows(env.client, taskQueue);
    for (const worker of workers) await worker.stop().catch(() => undefined);
    await closeTestEnvironment();
    await rm(scratch, { recursive: true, force: true });
  });

  it('runs every job exactly once, spread across all four workers', { timeout: 1_800_000 }, async () => {
    const env = await testEnvironment();
    const runId = `run-scale-${taskQueue}`;
    const jobs = Array.from(
      { length: jobCount },
      (_, index) => `  job-${index}: {network: none, steps: [{name: s, script: ["echo job ${index}"]}]}`,
    );
    const pipeline = pipelineFrom(`name: scale-out\njobs:\n${jobs.join('\n')}\n`);
    const status = await succeededRun(taskQueue, runId, pipeline);

    const names = Object.keys(status.jobs);
    assert.equal(names.length, jobCount);
    const perWorker = new Map<string, number>();
    for (const name of names) {
      const job = status.jobs[name]!;
      assert.equal(job.status, 'success', name);
      assert.equal(job.attempts, 1, name);
      assert.equal(job.steps.length, 1, name);
      assert.equal(job.steps[0]!.attempts, 1, name);
      const worker = job.steps[0]!.worker ?? 'unknown';
      perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
    }
    assert.deepEqual(
      [...perWorker.keys()].map((worker) => worker.replace(/ \(.*\)$/, '')).sort(),
      Array.from({ length: workerCount }, (_, index) => `host-${index}`),
      JSON.stringify([...perWorker]),
    );

    // Temporal's record: exactly one started-and-completed step activity per job, each its first attempt.
    const historyOwners = [...new Set(names.map((name) => status.jobs[name]!.workflowId ?? runId))];
    const steps = [];
    for (const owner of historyOwners) {
      steps.push(...(await activityRuns(env.client, owner)).filter((run) => run.type === 'runStep'));
    }
    assert.equal(steps.length, jobCount);
    assert.deepEqual(new Set(steps.map((run) => run.job)).size, jobCount);
    assert.ok(steps.every((run) => run.outcome === 'completed' && run.attempt === 1));
    assert.deepEqual(await leftoversOf(runId), []);
  });
});
