/**
 * What survives a crash: a worker killed with SIGKILL mid-step, a new one started — the run completes, the
 * running step is adopted (never two containers at once), finished jobs are not re-run, nothing leaks; and a
 * cancelled run kills and removes its containers within seconds.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { statusQuery } from '../../workflows/pipeline-run-messages';
import { job, pipeline, step } from '../helpers/models';
import { fastOptions, runResult, waitForContainerOutput, waitForRunningStep } from '../helpers/runs';
import type { LogStore } from '../../activities/log-store';
import { loadConfig } from '../../workers/config';
import { createLogStoreFromConfig } from '../../workers/stores';
import { closeTestEnvironment, docker, leftoversOf, testEnvironment, uniqueTaskQueue } from '../helpers/temporal';
import { startWorkerProcess } from '../helpers/worker-process';

/** Every stored record of a run. */
async function allRecords(logs: LogStore, runId: string) {
  const records = [];
  let offsets: Map<string, number> | undefined;
  for (;;) {
    const read = await logs.read(runId, offsets);
    records.push(...read.records);
    offsets = read.offsets;
    if (!read.more) return records;
  }
}

describe('crash safety', () => {
  after(closeTestEnvironment);

  // Both log stores: the file store writes each line at once, the S3 store in chunks every second.
  for (const store of ['fs', 's3'] as const) {
    it(`completes a run whose worker is killed with SIGKILL mid-step, adopting the running container and storing each line once (${store} log store)`, async () => {
      const storeEnv = { CONVEYOR_STORE: store };
      const logs = createLogStoreFromConfig(loadConfig({ ...process.env, ...storeEnv }));
      const env = await testEnvironment();
      const taskQueue = uniqueTaskQueue('crash');
      const runId = `run-test-${taskQueue}`;
      const model = pipeline('crash', [
        job('quick', [step('once', ['echo "quick ran"'])]),
        job(
          'slow',
          [
            step('long', [
              'echo start >> /workspace/trace',
              'for i in $(seq 1 30); do echo "line $i"; sleep 0.2; done',
              'echo end >> /workspace/trace',
              'echo long done',
            ]),
            step('check', ['cat /workspace/trace']),
          ],
          { dependsOn: ['quick'] },
        ),
      ]);
      let worker = await startWorkerProcess(taskQueue, storeEnv);
      try {
        const handle = await env.client.workflow.start('pipelineRun', {
          taskQueue,
          workflowId: runId,
          args: [
            { pipeline: model, vars: {}, trigger: 'test', options: { ...fastOptions, heartbeatTimeoutSeconds: 3 } },
          ],
        });
        const containerId = await waitForRunningStep(runId, 'long');
        // Killed while lines are being printed and stored.
        await waitForContainerOutput(containerId, 'line 8');
        await worker.crash();
        // The step's container keeps running without its worker.
        assert.equal((await docker.getContainer(containerId).inspect()).State.Running, true);
        worker = await startWorkerProcess(taskQueue, storeEnv);
        const status = await runResult(handle);

        assert.equal(status.status, 'success');
        const records = await allRecords(logs, runId);
        const lines = (jobName: string, stepName: string) =>
          records.filter((record) => record.job === jobName && record.step === stepName).map((record) => record.line);
        assert.deepEqual(lines('quick', 'once'), ['quick ran'], 'the finished job did not run again');
        assert.deepEqual(lines('slow', 'check'), ['start', 'end'], 'the step ran once: one start, one end');
        assert.deepEqual(lines('slow', 'long'), [
          ...Array.from({ length: 30 }, (_, index) => `line ${index + 1}`),
          'long done',
        ]);
        assert.equal(status.jobs.slow?.steps[0]?.attempts, 1, 'adopted, not retried as a new script attempt');
        assert.deepEqual(await leftoversOf(runId), []);
      } finally {
        await worker.stop();
      }
    });
  }

  for (const inlineEventBudget of [undefined, 0]) {
    const mode = inlineEventBudget === 0 ? 'child-workflow jobs' : 'inline jobs';
    it(`cancels a run (${mode}): its running containers are gone within seconds and its jobs end cancelled`, async () => {
      const env = await testEnvironment();
      const taskQueue = uniqueTaskQueue('cancel');
      const runId = `run-test-${taskQueue}`;
      const worker = await startWorkerProcess(taskQueue);
      try {
        const handle = await env.client.workflow.start('pipelineRun', {
          taskQueue,
          workflowId: runId,
          args: [
            {
              pipeline: pipeline('cancel', [
                job('a', [step('sleep', ['sleep 600'])]),
                job('b', [step('sleep', ['sleep 600'])]),
                job('c', [step('after', ['true'])], { dependsOn: ['a'] }),
              ]),
              vars: {},
              trigger: 'test',
              options: { ...fastOptions, inlineEventBudget },
            },
          ],
        });
        await waitForRunningStep(runId, 'sleep');
        await delay(500);
        await handle.cancel();
        await assert.rejects(handle.result(), /cancel/i);
        // The run is recorded as cancelled only once its containers are gone.
        assert.deepEqual(await leftoversOf(runId), []);
        // The steps ended by the cancel (their containers killed), not by running out their `sleep 600`.
        const history = await handle.fetchHistory();
        const cancelled = (history.events ?? []).filter(
          (event) => event.activityTaskCanceledEventAttributes || event.childWorkflowExecutionCanceledEventAttributes,
        );
        assert.equal(cancelled.length, 2, 'both running jobs were cancelled');
        assert.equal((await handle.describe()).status.name, 'CANCELLED');
        const status = await handle.query(statusQuery);
        assert.equal(status.status, 'cancelled');
        assert.deepEqual(
          Object.values(status.jobs).map((jobState) => jobState.status),
          ['cancelled', 'cancelled', 'cancelled'],
        );
      } finally {
        await worker.stop();
      }
    });
  }
});
