/**
 * What survives a crash: a worker killed with SIGKILL mid-step, a new one started — the run completes, the
 * running step is adopted (never two containers at once), finished jobs are not re-run, nothing leaks; and a
 * cancelled run kills and removes its containers within seconds.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { statusQuery } from '../../workflows/pipeline-run-messages';
import { job, pipeline, step } from '../helpers/models';
import { fastOptions, runResult, waitForRunningStep } from '../helpers/runs';
import { closeTestEnvironment, docker, leftoversOf, logs, testEnvironment, uniqueTaskQueue } from '../helpers/temporal';
import { startWorkerProcess } from '../helpers/worker-process';
import { delay } from '../../client/dev/processes';

describe('crash safety', () => {
  after(closeTestEnvironment);

  it('completes a run whose worker is killed with SIGKILL mid-step, adopting the running container', async () => {
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('crash');
    const runId = `run-test-${taskQueue}`;
    const model = pipeline('crash', [
      job('quick', [step('once', ['echo "quick ran"'])]),
      job(
        'slow',
        [
          step('long', ['echo start >> /workspace/trace', 'sleep 6', 'echo end >> /workspace/trace', 'echo long done']),
          step('check', ['cat /workspace/trace']),
        ],
        { dependsOn: ['quick'] },
      ),
    ]);
    let worker = await startWorkerProcess(taskQueue);
    try {
      const handle = await env.client.workflow.start('pipelineRun', {
        taskQueue,
        workflowId: runId,
        args: [{ pipeline: model, vars: {}, trigger: 'test', options: { ...fastOptions, heartbeatTimeoutSeconds: 3 } }],
      });
      const containerId = await waitForRunningStep(runId, 'long');
      await worker.crash();
      // The step's container keeps running without its worker.
      assert.equal((await docker.getContainer(containerId).inspect()).State.Running, true);
      worker = await startWorkerProcess(taskQueue);
      const status = await runResult(handle);

      assert.equal(status.status, 'success');
      const { records } = await logs.read(runId);
      const lines = (jobName: string, stepName: string) =>
        records.filter((record) => record.job === jobName && record.step === stepName).map((record) => record.line);
      assert.deepEqual(lines('quick', 'once'), ['quick ran'], 'the finished job did not run again');
      assert.deepEqual(lines('slow', 'check'), ['start', 'end'], 'the step ran once: one start, one end');
      assert.deepEqual(lines('slow', 'long'), ['long done']);
      assert.equal(status.jobs.slow?.steps[0]?.attempts, 1, 'adopted, not retried as a new script attempt');
      assert.deepEqual(await leftoversOf(runId), []);
    } finally {
      await worker.stop();
    }
  });

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
        const requested = Date.now();
        await handle.cancel();
        await assert.rejects(handle.result(), /cancel/i);
        assert.ok(Date.now() - requested < 15_000, `cleanup took ${Date.now() - requested} ms`);
        assert.deepEqual(await leftoversOf(runId), []);
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
