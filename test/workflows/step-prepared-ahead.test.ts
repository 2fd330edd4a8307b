/**
 * A step's activity creates the container of the job's next step while the step runs, so the next activity only
 * starts it (docs/benchmarks.md, "Where a step's time goes"). On the real dev server and Docker engine: the next
 * container exists, created and not started, while the step before it still runs; a step that fails leaves nothing
 * of the container made ahead, and the job fails for the step's own reason.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { job, pipeline, step } from '../helpers/models';
import { runPipeline } from '../helpers/runs';
import { closeTestEnvironment, docker, leftoversOf } from '../helpers/temporal';

/** The first container of a step labelled `stepName` seen in `status`, polled until `until` settles. */
async function watchFor(stepName: string, status: string, until: Promise<unknown>): Promise<string | undefined> {
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const [seen] = await docker.listContainers({
      all: true,
      filters: { label: [`conveyor.step=${stepName}`], status: [status] },
    });
    if (seen) return seen.Labels['conveyor.run'];
    await delay(50);
  }
  return undefined;
}

describe('the next step prepared ahead', () => {
  after(closeTestEnvironment);

  it('creates the next step’s container while the step before it runs, and starts that one', async () => {
    const name = `ahead-${Date.now()}`;
    const run = runPipeline(
      pipeline('prepared-ahead', [
        job('build', [step('first', ['sleep 4']), step(`${name}-second`, ['echo second ran'])]),
      ]),
    );
    const createdFor = await watchFor(`${name}-second`, 'created', run);
    const { runId, status } = await run;
    assert.equal(createdFor, runId, 'the second step’s container existed, not started, while the first ran');
    assert.equal(status.status, 'success');
    assert.deepEqual(
      status.jobs.build!.steps.map((s) => [s.name, s.status, s.attempts]),
      [
        ['first', 'success', 1],
        [`${name}-second`, 'success', 1],
      ],
    );
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it('removes the container made ahead when the step before it fails', async () => {
    const { runId, status } = await runPipeline(
      pipeline('prepared-ahead-failed', [
        job('build', [step('breaks', ['sleep 1', 'exit 3']), step('never', ['true']), step('nor', ['true'])]),
      ]),
    );
    const build = status.jobs.build!;
    assert.equal(status.status, 'failed');
    assert.deepEqual(
      [build.status, build.reason, build.failedStep, build.exitCode],
      ['failed', 'exit_code', 'breaks', 3],
    );
    assert.deepEqual(
      build.steps.map((s) => s.status),
      ['failed', 'skipped', 'skipped'],
    );
    assert.deepEqual(await leftoversOf(runId), []);
  });
});
