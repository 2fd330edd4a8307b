/**
 * Stopping a worker with SIGTERM drains it (docs/runs.md, "Stopping a worker"): it takes no new task, a running step
 * that ends within the shutdown grace finishes and reports on that worker, and one still running when the grace ends
 * is left running and adopted by the next worker. Either way the script runs once and the worker exits 0.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { activityRuns } from '../helpers/activity-history';
import { job, pipeline, step } from '../helpers/models';
import { fastOptions, runResult, waitForContainerOutput, waitForRunningStep } from '../helpers/runs';
import {
  closeTestEnvironment,
  docker,
  leftoversOf,
  logs,
  terminateOpenWorkflows,
  testEnvironment,
  uniqueTaskQueue,
} from '../helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';
import { removeRunResources } from '../helpers/workspaces';

/** A job whose first step prints a fresh random token, then waits for the test's go-ahead. */
const model = pipeline('drain', [
  job('build', [
    step('work', [
      'echo "token $(cat /proc/sys/kernel/random/uuid)"',
      'echo start >> /workspace/trace',
      'until test -f /workspace/go; do sleep 0.2; done',
      'echo work done',
    ]),
    step('after', ['cat /workspace/trace']),
  ]),
]);

/** Lets the waiting step go on: creates /workspace/go inside its container, and closes the exec's connection. */
async function letStepFinish(containerId: string): Promise<void> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: ['touch', '/workspace/go'], User: '1000' });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.resume();
  });
  stream.destroy();
}

/** Waits (up to 5 minutes, for a loaded machine) until `condition` holds. */
async function waitUntil(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await delay(100);
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** The lines a run's step stored in the log store. */
async function storedLines(runId: string, stepName: string): Promise<string[]> {
  const { records } = await logs.read(runId);
  return records.filter((record) => record.step === stepName).map((record) => record.line);
}

/** The run's step activity still pending on the server, if any. */
async function pendingStep(handle: WorkflowHandle) {
  const { raw } = await handle.describe();
  return raw.pendingActivities?.find((activity) => activity.activityType?.name === 'runStep');
}

const identity = (worker: WorkerProcess) => `${worker.child.pid}@${hostname()}`;

describe('stopping a worker', () => {
  after(closeTestEnvironment);

  async function startRun(taskQueue: string, runId: string) {
    const env = await testEnvironment();
    return env.client.workflow.start('pipelineRun', {
      taskQueue,
      workflowId: runId,
      args: [{ pipeline: model, vars: {}, trigger: 'test', options: { ...fastOptions, heartbeatTimeoutSeconds: 10 } }],
    });
  }

  it('SIGTERM during a step that ends within the grace: the step finishes and reports on that worker, which then exits 0', async () => {
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('drain');
    const runId = `run-test-${taskQueue}`;
    const workers: WorkerProcess[] = [];
    try {
      // A grace far longer than the step can take here, even on a loaded machine.
      const first = await startWorkerProcess(taskQueue, { CONVEYOR_WORKER_SHUTDOWN_GRACE: '10m' });
      workers.push(first);
      const handle = await startRun(taskQueue, runId);
      const containerId = await waitForRunningStep(runId, 'work', 300_000);
      await waitForContainerOutput(containerId, 'token', 300_000);
      first.child.kill('SIGTERM');
      await waitUntil('the worker drains', () => first.output().includes('draining'));
      await letStepFinish(containerId);
      assert.equal(await first.exited, 0, first.output());

      // The next step needs a worker: the drained one took no new task.
      const second = await startWorkerProcess(taskQueue);
      workers.push(second);
      const status = await runResult(handle);
      assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));
      const tokens = (await storedLines(runId, 'work')).filter((line) => line.startsWith('token '));
      assert.equal(tokens.length, 1, 'the script ran once');
      assert.deepEqual(await storedLines(runId, 'after'), ['start']);
      const steps = (await activityRuns(env.client, runId)).filter((run) => run.type === 'runStep');
      assert.deepEqual(
        steps.map(({ step: name, identity: who, attempt, outcome }) => ({ name, who, attempt, outcome })),
        [
          { name: 'work', who: identity(first), attempt: 1, outcome: 'completed' },
          { name: 'after', who: identity(second), attempt: 1, outcome: 'completed' },
        ],
      );
      assert.deepEqual(await leftoversOf(runId), []);
    } finally {
      await terminateOpenWorkflows(env.client, taskQueue);
      for (const worker of workers) await worker.stop();
      await removeRunResources(runId);
    }
  });

  /**
   * A run whose first worker is stopped by `stop` mid-step and exits with `exitCode`, its step's container still
   * running; a second worker adopts the container and the run completes with the script run once.
   */
  async function handOver(options: {
    grace: string;
    stop: (worker: WorkerProcess) => Promise<void>;
    exitCode: number | null;
    /** How the first worker's attempt ended, when it reported it. */
    lastFailureType?: string;
  }) {
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('handover');
    const runId = `run-test-${taskQueue}`;
    const workers: WorkerProcess[] = [];
    try {
      const first = await startWorkerProcess(taskQueue, { CONVEYOR_WORKER_SHUTDOWN_GRACE: options.grace });
      workers.push(first);
      const handle = await startRun(taskQueue, runId);
      const containerId = await waitForRunningStep(runId, 'work', 300_000);
      await waitForContainerOutput(containerId, 'token', 300_000);
      await options.stop(first);
      assert.equal(await first.exited, options.exitCode, first.output());
      // Handed over, not cancelled: the container runs on.
      assert.equal((await docker.getContainer(containerId).inspect()).State.Running, true);
      if (options.lastFailureType) {
        await waitUntil('the attempt has ended as handed over', async () => {
          const pending = await pendingStep(handle);
          return pending?.lastFailure?.applicationFailureInfo?.type === options.lastFailureType;
        });
      }

      const second = await startWorkerProcess(taskQueue);
      workers.push(second);
      await waitUntil('the next worker has adopted the step', async () => {
        const pending = await pendingStep(handle);
        return pending?.lastWorkerIdentity === identity(second) && (pending.attempt ?? 0) > 1;
      });
      await letStepFinish(containerId);
      const status = await runResult(handle);
      assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));
      assert.equal(status.jobs.build?.steps[0]?.attempts, 1, 'adopted, not retried as a new script attempt');
      const work = await storedLines(runId, 'work');
      assert.equal(work.filter((line) => line.startsWith('token ')).length, 1, 'the script ran once');
      assert.deepEqual(work.slice(1), ['work done'], 'every line stored once');
      assert.deepEqual(await storedLines(runId, 'after'), ['start']);
      const completed = (await activityRuns(env.client, runId)).filter(
        (run) => run.type === 'runStep' && run.outcome === 'completed',
      );
      assert.deepEqual(
        completed.map((run) => [run.step, run.identity]),
        [
          ['work', identity(second)],
          ['after', identity(second)],
        ],
      );
      assert.deepEqual(await leftoversOf(runId), []);
    } finally {
      await terminateOpenWorkflows(env.client, taskQueue);
      for (const worker of workers) await worker.stop();
      await removeRunResources(runId);
    }
  }

  it('SIGTERM during a step longer than the grace: the worker exits 0 leaving the container running, and the next worker adopts it', async () => {
    await handOver({
      grace: '2',
      stop: async (worker) => {
        worker.child.kill('SIGTERM');
      },
      exitCode: 0,
      lastFailureType: 'StepHandedOverError',
    });
  });

  it('a second SIGINT during the drain exits at once (130), and the next worker adopts the running step', async () => {
    await handOver({
      grace: '10m',
      stop: async (worker) => {
        worker.child.kill('SIGINT');
        await waitUntil('the worker drains', () => worker.output().includes('worker: SIGINT: draining'));
        worker.child.kill('SIGINT');
      },
      exitCode: 130,
    });
  });
});
