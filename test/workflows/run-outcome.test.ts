/**
 * How a run ends in Temporal: a successful pipeline is a Completed workflow, a failed one a Failed workflow whose
 * `PipelineFailed` failure carries the run's outcome, a cancelled one a Canceled workflow — and the
 * `ConveyorStatus` search attribute agrees each time.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { fetchRunStatus } from '../../client/runs';
import type { PipelineModel } from '../../pipeline/model';
import { statusKey } from '../../workflows/search-attributes';
import { job, pipeline, step } from '../helpers/models';
import { waitForRunningStep, withRun } from '../helpers/runs';
import { closeTestEnvironment, testEnvironment } from '../helpers/temporal';

after(closeTestEnvironment);

/** Starts `model`, lets `during` act on the run, waits for it to close; returns what Temporal says about it. */
async function runToEnd(model: PipelineModel, during: (handle: WorkflowHandle, runId: string) => Promise<void>) {
  const env = await testEnvironment();
  return withRun(model, async (handle, runId) => {
    await during(handle, runId);
    const failure = await handle.result().then(
      () => undefined,
      (error: unknown) => error,
    );
    const description = await handle.describe();
    const searchStatus = description.typedSearchAttributes.get(statusKey);
    const status = await fetchRunStatus(env.client, runId);
    return { failure, temporalStatus: description.status.name, searchStatus, status };
  });
}

describe('run outcome in Temporal', () => {
  it('a successful pipeline completes its workflow, ConveyorStatus success', async () => {
    const ended = await runToEnd(pipeline('ok', [job('a', [step('s', ['true'])])]), async () => undefined);
    assert.equal(ended.failure, undefined);
    assert.equal(ended.temporalStatus, 'COMPLETED');
    assert.equal(ended.searchStatus, 'success');
    assert.equal(ended.status.status, 'success');
  });

  it("a failed pipeline fails its workflow with a PipelineFailed failure carrying the run's outcome", async () => {
    const ended = await runToEnd(
      pipeline('broken', [job('build', [step('compile', ['exit 3'])]), job('lint', [step('s', ['true'])])]),
      async () => undefined,
    );
    assert.equal(ended.temporalStatus, 'FAILED');
    assert.equal(ended.searchStatus, 'failed');
    assert.ok(ended.failure instanceof WorkflowFailedError);
    const cause = ended.failure.cause;
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'PipelineFailed');
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, /job 'build' failed in step 'compile' \(exit_code, exit code 3\)/);
    // The client reads the outcome from the failure: no worker needed, same shape as a completed run's result.
    assert.equal(ended.status.status, 'failed');
    assert.equal(ended.status.jobs.build?.exitCode, 3);
    assert.equal(ended.status.jobs.lint?.status, 'success');
  });

  it('a cancelled run is a Canceled workflow, ConveyorStatus cancelled', async () => {
    const ended = await runToEnd(pipeline('cancel', [job('a', [step('sleep', ['sleep 600'])])]), async (handle, id) => {
      await waitForRunningStep(id, 'sleep');
      await handle.cancel();
    });
    assert.equal(ended.temporalStatus, 'CANCELLED');
    assert.equal(ended.searchStatus, 'cancelled');
    assert.equal(ended.status.status, 'cancelled');
    assert.equal(ended.status.jobs.a?.status, 'cancelled');
  });
});
