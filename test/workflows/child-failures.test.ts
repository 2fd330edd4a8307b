/**
 * A job's child workflow that ends badly — terminated by an operator (`temporal workflow terminate`) — fails its
 * job with the reason, and the run carries on and ends normally instead of wedging on a failed workflow task.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { job, pipeline, step } from '../helpers/models';
import { fastOptions, runResult, waitForRunningStep } from '../helpers/runs';
import { closeTestEnvironment, leftoversOf, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

after(closeTestEnvironment);

describe('child workflow failures', () => {
  it(
    'a terminated job child fails its job as terminated, skips its dependents, and the run ends',
    { timeout: 120_000 },
    async () => {
      const env = await testEnvironment();
      const taskQueue = uniqueTaskQueue('terminate');
      const runId = `run-test-${taskQueue}`;
      const status = await withWorkers(taskQueue, async () => {
        const handle = await env.client.workflow.start('pipelineRun', {
          taskQueue,
          workflowId: runId,
          args: [
            {
              pipeline: pipeline('terminate', [
                job('stuck', [step('sleep', ['sleep 600'])]),
                job('after', [step('s', ['true'])], { dependsOn: ['stuck'] }),
                job('other', [step('s', ['echo other'])]),
              ]),
              vars: {},
              trigger: 'test',
              options: { ...fastOptions, inlineEventBudget: 0 },
            },
          ],
        });
        await waitForRunningStep(runId, 'sleep');
        const child = (await handle.query('status')) as PipelineRunStatus;
        const childId = child.jobs.stuck?.workflowId;
        assert.ok(childId, 'the job runs as a child workflow');
        await env.client.workflow.getHandle(childId).terminate('operator terminated the job');
        return runResult(handle);
      });
      assert.equal(status.status, 'failed');
      assert.equal(status.jobs.stuck?.status, 'failed');
      assert.equal(status.jobs.stuck?.reason, 'terminated');
      assert.equal(status.jobs.after?.status, 'skipped');
      assert.equal(status.jobs.after?.reason, 'upstream_failed');
      assert.equal(status.jobs.other?.status, 'success');
      assert.deepEqual(await leftoversOf(runId), []);
    },
  );
});
