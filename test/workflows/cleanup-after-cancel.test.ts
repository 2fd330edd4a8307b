/**
 * Cleanup jobs after a cancel (docs/runs.md "Cancellation"), as in GitHub Actions: jobs whose `if:` uses
 * `always()` or `cancelled()` still run after the run is cancelled, within the cleanup grace; every other job ends
 * `cancelled`. Asserted on outcomes and on the order of the run's recorded events, never on durations.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { fetchRunStatus } from '../../client/runs';
import type { PipelineModel } from '../../pipeline/model';
import type { PipelineRunStatus, RunOptions } from '../../workflows/pipeline-run-messages';
import { job, pipeline, step } from '../helpers/models';
import { positionOf, runEventLines } from '../helpers/run-events';
import { fastOptions, jobModes as modes, jobSummary as summary, waitForRunningStep, withRun } from '../helpers/runs';
import { closeTestEnvironment, leftoversOf, testEnvironment } from '../helpers/temporal';

after(closeTestEnvironment);

/**
 * Starts `model`, cancels it once the steps named in `cancelWhenRunning` run, waits for the run to end; returns its
 * status, Temporal's word on it and its events as lines.
 */
async function cancelDuring(
  model: PipelineModel,
  cancelWhenRunning: string[],
  runOptions: RunOptions,
): Promise<{ runId: string; status: PipelineRunStatus; temporalStatus: string; lines: string[] }> {
  const env = await testEnvironment();
  return withRun(
    model,
    async (handle, runId) => {
      for (const stepName of cancelWhenRunning) await waitForRunningStep(runId, stepName);
      await handle.cancel();
      const ended = await handle.result().then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(ended instanceof WorkflowFailedError && ended.cause instanceof CancelledFailure, String(ended));
      const status = await fetchRunStatus(env.client, runId);
      const temporalStatus = (await handle.describe()).status.name;
      return { runId, status, temporalStatus, lines: await runEventLines(env.client, runId) };
    },
    { runOptions },
  );
}

describe('cleanup jobs after a cancel', () => {
  for (const { mode, runOptions } of modes) {
    it(`always() and cancelled() jobs still run after a cancel, a running always() job keeps running, the rest are cancelled (${mode})`, async () => {
      const { runId, status, temporalStatus, lines } = await cancelDuring(
        pipeline('cleanup-after-cancel', [
          job('build', [step('compile', ['sleep 600'])]),
          job('deploy', [step('s', ['true'])], { dependsOn: ['build'] }),
          job('cleanup', [step('s', ['echo cleaning up'])], { dependsOn: ['build'], if: 'always()' }),
          job('notify', [step('s', ['echo cancelled'])], { dependsOn: ['build'], if: 'cancelled()' }),
          job('on-failure', [step('s', ['true'])], { dependsOn: ['build'], if: 'failure()' }),
          job('after-cleanup', [step('s', ['true'])], { dependsOn: ['cleanup'] }),
          // Running when the cancel comes (long enough to outlast the cancel on a loaded machine): a cleanup job, so
          // it is left to finish.
          job('watch', [step('wait', ['sleep 12'])], { if: 'always()' }),
        ]),
        ['compile', 'wait'],
        runOptions,
      );
      assert.equal(temporalStatus, 'CANCELLED');
      assert.equal(status.status, 'cancelled');
      assert.deepEqual(summary(status.jobs), {
        build: 'cancelled',
        deploy: 'cancelled',
        cleanup: 'success',
        notify: 'success',
        'on-failure': 'cancelled',
        'after-cleanup': 'cancelled',
        watch: 'success',
      });
      const cancelled = positionOf(lines, 'run cancel requested');
      assert.ok(cancelled < positionOf(lines, 'cancel build/compile 1.1'), lines.join('\n'));
      const buildEnded = positionOf(lines, 'ended build/compile 1.1 cancelled');
      assert.ok(buildEnded < positionOf(lines, 'scheduled cleanup/s 1.1'), lines.join('\n'));
      assert.ok(buildEnded < positionOf(lines, 'scheduled notify/s 1.1'), lines.join('\n'));
      assert.ok(cancelled < positionOf(lines, 'ended watch/wait 1.1 success'), lines.join('\n'));
      assert.ok(!lines.some((line) => line.startsWith('cancel watch/')), lines.join('\n'));
      assert.ok(!lines.some((line) => /^scheduled (deploy|on-failure|after-cleanup)\//.test(line)), lines.join('\n'));
      assert.deepEqual(await leftoversOf(runId), []);
    });
  }

  it('cleanup jobs still running when the cleanup grace ends are cancelled, and nothing starts after it', async () => {
    const { runId, status, lines } = await cancelDuring(
      pipeline('cleanup-grace', [
        job('build', [step('compile', ['sleep 600'])]),
        job('cleanup', [step('slow', ['sleep 600'])], { dependsOn: ['build'], if: 'always()' }),
        job('after-cleanup', [step('s', ['true'])], { dependsOn: ['cleanup'], if: 'always()' }),
      ]),
      ['compile'],
      { ...fastOptions, cleanupGraceSeconds: 5 },
    );
    assert.deepEqual(summary(status.jobs), {
      build: 'cancelled',
      cleanup: 'cancelled',
      'after-cleanup': 'cancelled',
    });
    const graceStarted = positionOf(lines, 'timer 5s');
    assert.ok(positionOf(lines, 'run cancel requested') < graceStarted, lines.join('\n'));
    assert.ok(graceStarted < positionOf(lines, 'scheduled cleanup/slow 1.1'), lines.join('\n'));
    const graceOver = positionOf(lines, 'fired 5s');
    assert.ok(graceOver < positionOf(lines, 'cancel cleanup/slow 1.1'), lines.join('\n'));
    assert.ok(!lines.some((line) => line.startsWith('scheduled after-cleanup/')), lines.join('\n'));
    assert.deepEqual(await leftoversOf(runId), []);
  });
});
