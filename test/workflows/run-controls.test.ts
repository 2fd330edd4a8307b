/**
 * The run's controls (docs/runs.md), on the real dev server and Docker engine: `max_parallel`, `fail_fast`,
 * whole-job retries, job and run timeouts, `continue_on_failure`. Every assertion is on outcomes and on the order of
 * events in the run's Temporal history (test/helpers/run-events.ts), never on how long something took.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { JobModel, MatrixStrategyModel, StepModel } from '../../pipeline/model';
import { job, pipeline, step } from '../helpers/models';
import { mostStepsInFlight, positionOf, runEventLines, runEvents } from '../helpers/run-events';
import { jobModes as modes, jobSummary as summary, runPipeline } from '../helpers/runs';
import { closeTestEnvironment, leftoversOf, testEnvironment } from '../helpers/temporal';

after(closeTestEnvironment);

/** The expansions of a one-axis matrix job, named the way the parser names them (`test (n=1)`). */
function matrixJobs(
  baseName: string,
  strategy: MatrixStrategyModel,
  steps: Record<number, StepModel[]>,
  overrides: Partial<JobModel> = {},
): JobModel[] {
  return Object.entries(steps).map(([n, jobSteps]) =>
    job(`${baseName} (n=${n})`, jobSteps, { baseName, matrix: { n: Number(n) }, strategy, ...overrides }),
  );
}

async function historyLines(runId: string): Promise<string[]> {
  return runEventLines((await testEnvironment()).client, runId);
}

describe('run controls', () => {
  it('never runs more than concurrency.max_parallel jobs at once, and does reach that many', async () => {
    const names = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const { runId, status } = await runPipeline(
      pipeline(
        'max-parallel',
        names.map((name) => job(name, [step('s', ['sleep 1'])])),
        { maxParallel: 2 },
      ),
    );
    assert.equal(status.status, 'success');
    const events = await runEvents((await testEnvironment()).client, runId);
    assert.equal(events.filter((event) => event.kind === 'step-scheduled').length, names.length);
    assert.equal(mostStepsInFlight(events), 2);
  });

  it("a matrix's max_parallel bounds its own expansions while other jobs run beside them", async () => {
    const strategy = { maxParallel: 1, failFast: true };
    const { runId, status } = await runPipeline(
      pipeline('matrix-max-parallel', [
        ...matrixJobs('test', strategy, { 1: [step('s', ['sleep 1'])], 2: [step('s', ['sleep 1'])] }),
        job('other', [step('s', ['sleep 2'])]),
      ]),
    );
    assert.equal(status.status, 'success');
    const events = await runEvents((await testEnvironment()).client, runId);
    assert.equal(
      mostStepsInFlight(events, (ref) => ref.job.startsWith('test (')),
      1,
    );
    assert.equal(mostStepsInFlight(events), 2, 'the matrix limit does not hold back other jobs');
  });

  for (const { mode, runOptions } of modes) {
    it(`fail_fast cancels the running expansions of a failed matrix, not other jobs, and fails the run (${mode})`, async () => {
      const { runId, status } = await runPipeline(
        pipeline('fail-fast', [
          ...matrixJobs(
            'test',
            { failFast: true },
            {
              1: [step('s', ['exit 3'])],
              2: [step('s', ['sleep 600'])],
              3: [step('s', ['sleep 600'])],
            },
          ),
          job('other', [step('s', ['sleep 1'])]),
          job('report', [step('s', ['true'])], { dependsOn: ['test (n=1)', 'test (n=2)', 'test (n=3)'] }),
        ]),
        { runOptions },
      );
      assert.equal(status.status, 'failed');
      assert.deepEqual(summary(status.jobs), {
        'test (n=1)': 'failed:exit_code',
        'test (n=2)': 'cancelled:fail_fast',
        'test (n=3)': 'cancelled:fail_fast',
        other: 'success',
        report: 'skipped:upstream_failed',
      });
      const lines = await historyLines(runId);
      const failed = positionOf(lines, 'ended test (n=1)/s 1.1 failed');
      for (const sibling of ['test (n=2)', 'test (n=3)']) {
        assert.ok(positionOf(lines, `scheduled ${sibling}/s 1.1`) < failed, `${sibling} was running`);
        assert.ok(failed < positionOf(lines, `cancel ${sibling}/s 1.1`), `${sibling} is cancelled after the failure`);
        assert.ok(positionOf(lines, `cancel ${sibling}/s 1.1`) < positionOf(lines, `ended ${sibling}/s 1.1 cancelled`));
      }
      assert.ok(!lines.some((line) => line.startsWith('cancel other/')), lines.join('\n'));
      assert.ok(!lines.some((line) => line.startsWith('scheduled report/')), lines.join('\n'));
      assert.deepEqual(await leftoversOf(runId), []);
    });
  }

  it('fail_fast never starts the expansions still waiting for a slot; without fail_fast they all run', async () => {
    const { runId, status } = await runPipeline(
      pipeline('fail-fast-waiting', [
        ...matrixJobs(
          'fast',
          { maxParallel: 1, failFast: true },
          { 1: [step('s', ['exit 3'])], 2: [step('s', ['true'])], 3: [step('s', ['true'])] },
        ),
        ...matrixJobs(
          'slow',
          { maxParallel: 1, failFast: false },
          { 1: [step('s', ['exit 3'])], 2: [step('s', ['true'])], 3: [step('s', ['true'])] },
        ),
      ]),
    );
    assert.deepEqual(summary(status.jobs), {
      'fast (n=1)': 'failed:exit_code',
      'fast (n=2)': 'cancelled:fail_fast',
      'fast (n=3)': 'cancelled:fail_fast',
      'slow (n=1)': 'failed:exit_code',
      'slow (n=2)': 'success',
      'slow (n=3)': 'success',
    });
    const lines = await historyLines(runId);
    assert.ok(!lines.some((line) => /^scheduled fast \(n=[23]\)/.test(line)), lines.join('\n'));
    assert.ok(positionOf(lines, 'ended slow (n=1)/s 1.1 failed') < positionOf(lines, 'scheduled slow (n=2)/s 1.1'));
  });

  it('retries a whole job per its retry_count, from an empty workspace, after a backoff timer', async () => {
    const { runId, status } = await runPipeline(
      pipeline('job-retry', [
        job(
          'flaky',
          [
            // Fails if the workspace kept the first attempt's file.
            step('prepare', ['test ! -e /workspace/mark', 'touch /workspace/mark']),
            step('check', ['echo "job attempt $CONVEYOR_JOB_ATTEMPT"', 'test "$CONVEYOR_JOB_ATTEMPT" -ge 2']),
          ],
          { retryCount: 2 },
        ),
        job('broken', [step('s', ['exit 5'])], { retryCount: 1 }),
        job('after-broken', [step('s', ['true'])], { dependsOn: ['broken'] }),
        job('hopeless', [step('s', ['true'], { image: 'conveyor/no-such-image:never', pullPolicy: 'never' })], {
          retryCount: 3,
        }),
      ]),
    );
    assert.deepEqual(summary(status.jobs), {
      flaky: 'success',
      broken: 'failed:exit_code',
      'after-broken': 'skipped:upstream_failed',
      hopeless: 'failed:image_not_found',
    });
    assert.equal(status.jobs.flaky?.attempts, 2);
    assert.equal(status.jobs.broken?.attempts, 2);
    assert.equal(status.jobs.hopeless?.attempts, 1, 'a missing image is not worth another attempt');
    const lines = await historyLines(runId);
    const flaky = lines.filter((line) => / flaky\//.test(line));
    assert.deepEqual(flaky, [
      'scheduled flaky/prepare 1.1',
      'ended flaky/prepare 1.1 success',
      'scheduled flaky/check 1.1',
      'ended flaky/check 1.1 failed',
      'scheduled flaky/prepare 2.1',
      'ended flaky/prepare 2.1 success',
      'scheduled flaky/check 2.1',
      'ended flaky/check 2.1 success',
    ]);
    // The backoff is a durable timer between the failed attempt and the next one.
    const failedAt = positionOf(lines, 'ended flaky/check 1.1 failed');
    const retriedAt = positionOf(lines, 'scheduled flaky/prepare 2.1');
    assert.ok(
      lines.slice(failedAt, retriedAt).some((line) => line.startsWith('fired ')),
      lines.join('\n'),
    );
    assert.deepEqual(
      lines.filter((line) => line.startsWith('scheduled broken/')),
      ['scheduled broken/s 1.1', 'scheduled broken/s 2.1'],
    );
    assert.ok(!lines.some((line) => line.startsWith('scheduled hopeless/s 2.')), lines.join('\n'));
    assert.deepEqual(await leftoversOf(runId), []);
  });

  for (const { mode, runOptions } of modes) {
    it(`a job's timeout cancels its running step, fails it timed_out and skips its dependents (${mode})`, async () => {
      const { runId, status } = await runPipeline(
        pipeline('job-timeout', [
          job('slow', [step('s', ['sleep 600'], { timeoutSeconds: 900 }), step('never', ['true'])], {
            timeoutSeconds: 3,
          }),
          job('after', [step('s', ['true'])], { dependsOn: ['slow'] }),
          job('other', [step('s', ['true'])]),
        ]),
        { runOptions },
      );
      assert.equal(status.status, 'failed');
      assert.deepEqual(summary(status.jobs), {
        slow: 'failed:timed_out',
        after: 'skipped:upstream_failed',
        other: 'success',
      });
      assert.deepEqual(
        status.jobs.slow?.steps.map((s) => s.status),
        ['timed_out', 'skipped'],
      );
      const lines = await historyLines(runId);
      const fired = positionOf(lines, 'fired 3s');
      assert.ok(positionOf(lines, 'timer 3s') < positionOf(lines, 'scheduled slow/s 1.1'));
      assert.ok(fired < positionOf(lines, 'cancel slow/s 1.1'), lines.join('\n'));
      assert.ok(positionOf(lines, 'cancel slow/s 1.1') < positionOf(lines, 'ended slow/s 1.1 cancelled'));
      assert.ok(!lines.some((line) => line.startsWith('scheduled slow/never')), lines.join('\n'));
      assert.deepEqual(await leftoversOf(runId), []);
    });
  }

  for (const { mode, runOptions } of modes) {
    it(`the run timeout cancels running and waiting jobs as run_timed_out, runs cleanup jobs, and fails the run (${mode})`, async () => {
      const { runId, status } = await runPipeline(
        pipeline(
          'run-timeout',
          [
            job('long', [step('s', ['sleep 600'])]),
            job('next', [step('s', ['true'])], { dependsOn: ['long'] }),
            job('cleanup', [step('s', ['echo cleaning up'])], { dependsOn: ['long'], if: 'always()' }),
            job('on-success', [step('s', ['true'])], { dependsOn: ['long'], if: 'success()' }),
          ],
          { timeoutSeconds: 4 },
        ),
        { runOptions },
      );
      assert.equal(status.status, 'failed');
      assert.deepEqual(summary(status.jobs), {
        long: 'cancelled:run_timed_out',
        next: 'cancelled:run_timed_out',
        cleanup: 'success',
        'on-success': 'cancelled:run_timed_out',
      });
      const lines = await historyLines(runId);
      const fired = positionOf(lines, 'fired 4s');
      assert.ok(fired < positionOf(lines, 'cancel long/s 1.1'), lines.join('\n'));
      assert.ok(positionOf(lines, 'ended long/s 1.1 cancelled') < positionOf(lines, 'scheduled cleanup/s 1.1'));
      assert.ok(!lines.some((line) => /^scheduled (next|on-success)\//.test(line)), lines.join('\n'));
      assert.deepEqual(await leftoversOf(runId), []);
    });
  }

  it('a step with continue_on_failure fails alone: the next step runs and the job and run succeed', async () => {
    const { runId, status } = await runPipeline(
      pipeline('continue-on-failure', [
        job('lenient', [
          step('optional', ['echo optional broke', 'exit 4'], { continueOnFailure: true }),
          step('main', ['true']),
          step('optional-last', ['exit 6'], { continueOnFailure: true }),
        ]),
        job('after', [step('s', ['true'])], { dependsOn: ['lenient'] }),
      ]),
    );
    assert.equal(status.status, 'success');
    assert.deepEqual(summary(status.jobs), { lenient: 'success', after: 'success' });
    const steps = status.jobs.lenient?.steps ?? [];
    assert.deepEqual(
      steps.map((s) => `${s.name}:${s.status}:${s.exitCode}`),
      ['optional:failed:4', 'main:success:0', 'optional-last:failed:6'],
    );
    assert.deepEqual(steps[0]?.logTail, ['optional broke']);
    const lines = await historyLines(runId);
    assert.ok(positionOf(lines, 'ended lenient/optional 1.1 failed') < positionOf(lines, 'scheduled lenient/main 1.1'));
    assert.ok(positionOf(lines, 'ended lenient/optional-last 1.1 failed') < positionOf(lines, 'scheduled after/s 1.1'));
    assert.deepEqual(await leftoversOf(runId), []);
  });
});
