/**
 * A rolling upgrade of the workers (docs/operations.md, "Rolling upgrades"): runs start on a worker running the
 * previous release's code (test/replay/histories/previous-release/release.json, materialised from git), that worker
 * is killed mid-run — some jobs finished, one step running — and a worker running today's code takes over the same
 * task queues. Each run completes, and Temporal's history shows every step run to completion exactly once, the early
 * jobs by the old worker and the late ones by the new.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { activityRuns, type ActivityRun } from '../helpers/activity-history';
import { job, pipeline, step } from '../helpers/models';
import { checkoutPreviousRelease } from '../helpers/previous-release';
import { fastOptions, jobModes, runResult, waitForRunningStep } from '../helpers/runs';
import {
  closeTestEnvironment,
  config,
  docker,
  leftoversOf,
  terminateOpenWorkflows,
  testEnvironment,
  uniqueTaskQueue,
} from '../helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';
import { removeRunResources } from '../helpers/workspaces';

/** Four jobs; `b`'s first step waits for the test's go-ahead, so it is surely running when the old worker dies. */
const model = pipeline('upgrade', [
  job('a', [step('a-1', ['echo a1 >> /workspace/trace']), step('a-2', ['cat /workspace/trace'])]),
  job(
    'b',
    [
      step('b-1', ['echo start >> /workspace/trace', 'until test -f /workspace/go; do sleep 0.2; done']),
      step('b-2', ['echo end >> /workspace/trace', 'cat /workspace/trace']),
    ],
    { dependsOn: ['a'] },
  ),
  job('c', [step('c-1', ['echo c1'])], { dependsOn: ['b'] }),
  job('d', [step('d-1', ['echo d1'])], { dependsOn: ['a'] }),
]);

/** The identities (`pid@host`) of the workers that completed the workflow's tasks. */
async function workflowTaskWorkers(handle: WorkflowHandle): Promise<Set<string>> {
  const history = await handle.fetchHistory();
  const identities = new Set<string>();
  for (const event of (history.events ?? []) as temporal.api.history.v1.IHistoryEvent[]) {
    const identity = event.workflowTaskCompletedEventAttributes?.identity;
    if (identity) identities.add(identity);
  }
  return identities;
}

describe('rolling upgrade', () => {
  let release: Awaited<ReturnType<typeof checkoutPreviousRelease>> | undefined;
  before(async () => {
    release = await checkoutPreviousRelease();
  });
  after(async () => {
    await release?.remove();
    await closeTestEnvironment();
  });

  it("runs started on the previous release's worker complete on today's after the old worker dies mid-run", async () => {
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('upgrade');
    // The old release reads the same stack: this checkout's data dir (its config file and store settings).
    const stackEnv = { CONVEYOR_DATA_DIR: config.dataDir };
    const workers: WorkerProcess[] = [];
    try {
      const old = await startWorkerProcess(taskQueue, stackEnv, 300_000, release!.root);
      workers.push(old);
      // Both job modes at once: inline jobs, and jobs as child workflows.
      const runs = await Promise.all(
        jobModes.map(async ({ runOptions }) => {
          const runId = `run-test-${taskQueue}-${runOptions.inlineEventBudget === 0 ? 'children' : 'inline'}`;
          const handle = await env.client.workflow.start('pipelineRun', {
            taskQueue,
            workflowId: runId,
            args: [
              {
                pipeline: model,
                vars: {},
                trigger: 'test',
                options: { ...runOptions, ...fastOptions, heartbeatTimeoutSeconds: 3 },
              },
            ],
          });
          return { runId, handle, children: runOptions.inlineEventBudget === 0 };
        }),
      );
      // Job a done, b's first step running (d may be either): the old worker dies without any cleanup.
      const waiting = await Promise.all(runs.map(({ runId }) => waitForRunningStep(runId, 'b-1', 300_000)));
      await old.crash();
      const current = await startWorkerProcess(taskQueue, {}, 300_000);
      workers.push(current);
      // Let b's first step finish now that the new worker serves the queues.
      for (const container of waiting) {
        const exec = await docker.getContainer(container).exec({ Cmd: ['touch', '/workspace/go'], User: '1000' });
        await exec.start({ hijack: true, stdin: false });
      }
      const identity = (worker: WorkerProcess) => `${worker.child.pid}@${hostname()}`;
      for (const { runId, handle, children } of runs) {
        const status = await runResult(handle);
        assert.equal(status.status, 'success', `${runId}: ${JSON.stringify(status.jobs, null, 1)}`);
        assert.deepEqual(Object.fromEntries(Object.entries(status.jobs).map(([name, state]) => [name, state.status])), {
          a: 'success',
          b: 'success',
          c: 'success',
          d: 'success',
        });
        // Temporal's record: one completed step activity per step, none failed.
        const owners = children ? Object.values(status.jobs).map((state) => state.workflowId!) : [runId];
        const steps: ActivityRun[] = [];
        for (const owner of owners) {
          steps.push(...(await activityRuns(env.client, owner)).filter((run) => run.type === 'runStep'));
        }
        const completed = (name: string) =>
          steps.filter((run) => run.step === name && run.outcome === 'completed').map((run) => run.identity);
        for (const name of ['a-1', 'a-2', 'b-1', 'b-2', 'c-1', 'd-1']) {
          assert.equal(completed(name).length, 1, `${runId}: step ${name} completed once`);
        }
        assert.deepEqual(
          steps.filter((run) => run.outcome !== 'completed'),
          [],
          `${runId}: no step activity failed`,
        );
        assert.deepEqual(completed('a-1'), [identity(old)], `${runId}: job a ran on the old release`);
        assert.deepEqual(completed('b-1'), [identity(current)], `${runId}: b's running step was adopted`);
        assert.deepEqual(completed('c-1'), [identity(current)], `${runId}: job c ran on the new release`);
        // The run's own workflow tasks ran on both releases: the switch happened mid-run.
        const deciders = await workflowTaskWorkers(handle);
        assert.ok(deciders.has(identity(old)) && deciders.has(identity(current)), [...deciders].join(', '));
        assert.deepEqual(await leftoversOf(runId), []);
      }
    } finally {
      await terminateOpenWorkflows(env.client, taskQueue);
      for (const worker of workers) await worker.stop();
      // Whatever a failed attempt left behind.
      for (const mode of ['children', 'inline']) await removeRunResources(`run-test-${taskQueue}-${mode}`);
    }
  });
});
