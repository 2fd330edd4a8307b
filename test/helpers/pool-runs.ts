/** Running a pipeline on worker processes started by the test (runner pools, scale-out). */
import assert from 'node:assert/strict';
import type { PipelineModel } from '../../pipeline/model';
import type { PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { finalStatus, runInput } from './artifact-runs';
import { testEnvironment } from './temporal';

/** Starts `pipeline` as `runId` on `taskQueue`, waits for its end and asserts it succeeded; returns its status. */
export async function succeededRun(
  taskQueue: string,
  runId: string,
  pipeline: PipelineModel,
): Promise<PipelineRunStatus> {
  const env = await testEnvironment();
  const handle = await env.client.workflow.start('pipelineRun', {
    taskQueue,
    workflowId: runId,
    args: [runInput(pipeline)],
  });
  const status = await finalStatus(handle);
  assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));
  return status;
}
