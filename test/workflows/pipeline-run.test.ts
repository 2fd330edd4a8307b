/**
 * The `pipelineRun` workflow on the real dev server with real workers and the real Docker engine.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closeTestEnvironment, leftoversOf, logs } from '../helpers/temporal';
import { fastOptions, runPipeline } from '../helpers/runs';
import { job, pipeline, step } from '../helpers/models';

after(closeTestEnvironment);

// Small pipelines run their jobs inline; large ones as child workflows. Both must behave the same.
for (const mode of ['inline jobs', 'child-workflow jobs'] as const) {
  const runOptions = { ...fastOptions, inlineEventBudget: mode === 'inline jobs' ? undefined : 0 };
  const expectChild = (workflowId: string | undefined) =>
    assert.equal(Boolean(workflowId), mode === 'child-workflow jobs', `job ran as ${mode}`);

  describe(`pipelineRun workflow (${mode})`, () => {
    it('runs jobs in dependency order, passing files between steps of a job through the workspace', async () => {
      const { runId, status } = await runPipeline(
        pipeline('order', [
          job('first', [step('write', ['echo one > /workspace/f']), step('read', ['cat /workspace/f'])]),
          job('second', [step('env', ['echo "job=$CONVEYOR_JOB run=$CONVEYOR_RUN_ID"'])], { dependsOn: ['first'] }),
        ]),
        { runOptions },
      );
      expectChild(status.jobs.first?.workflowId);
      assert.equal(status.status, 'success');
      assert.equal(status.jobs.first?.status, 'success');
      assert.equal(status.jobs.second?.status, 'success');
      assert.ok(
        status.jobs.first!.finishedAt! <= status.jobs.second!.startedAt!,
        'second started after first finished',
      );
      const { records } = await logs.read(runId);
      assert.deepEqual(
        records.map((record) => `${record.job}/${record.step}: ${record.line}`),
        ['first/read: one', `second/env: job=second run=${runId}`],
      );
      assert.deepEqual(await leftoversOf(runId), []);
    });

    it('fails the run with the failing job, step and exit code, skipping dependents but finishing other branches', async () => {
      const { runId, status } = await runPipeline(
        pipeline('failing', [
          job('build', [step('compile', ['echo compiling', 'exit 3']), step('never', ['true'])]),
          job('deploy', [step('ship', ['true'])], { dependsOn: ['build'] }),
          job('after-deploy', [step('notify', ['true'])], { dependsOn: ['deploy'] }),
          job('lint', [step('check', ['sleep 1', 'echo clean'])]),
        ]),
        { runOptions },
      );
      expectChild(status.jobs.build?.workflowId);
      assert.equal(status.status, 'failed');
      assert.deepEqual(
        {
          status: status.jobs.build?.status,
          step: status.jobs.build?.failedStep,
          exitCode: status.jobs.build?.exitCode,
        },
        { status: 'failed', step: 'compile', exitCode: 3 },
      );
      assert.deepEqual(
        status.jobs.build?.steps.map((s) => [s.name, s.status]),
        [
          ['compile', 'failed'],
          ['never', 'skipped'],
        ],
      );
      assert.deepEqual(status.jobs.build?.steps[0]?.logTail, ['compiling']);
      assert.equal(status.jobs.deploy?.status, 'skipped');
      assert.equal(status.jobs.deploy?.reason, 'upstream_failed');
      assert.equal(status.jobs['after-deploy']?.reason, 'upstream_failed');
      assert.equal(status.jobs.lint?.status, 'success');
      assert.deepEqual(await leftoversOf(runId), []);
    });

    it('fails a step whose image is missing and may not be pulled at once, as image_not_found', async () => {
      const { status } = await runPipeline(
        pipeline('missing-image', [
          job('only', [step('run', ['true'], { image: 'conveyor/not-built:0', pullPolicy: 'never' })]),
        ]),
        { runOptions },
      );
      assert.equal(status.status, 'failed');
      assert.equal(status.jobs.only?.reason, 'image_not_found');
      assert.equal(status.jobs.only?.steps[0]?.attempts, 1);
      assert.match(status.jobs.only?.message ?? '', /conveyor\/not-built:0/);
    });
  });
}
