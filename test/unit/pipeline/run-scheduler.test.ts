/**
 * The run's scheduler without Temporal: which jobs start, are skipped or cancelled, given the events of a run.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FinishedJob } from '../../../pipeline/job-condition';
import type { JobModel } from '../../../pipeline/model';
import { RunScheduler, type SchedulerDecision } from '../../../pipeline/run-scheduler';
import { job, pipeline, step } from '../../helpers/models';

/** `name: dep dep` → a one-step job. */
function jobOf(line: string, overrides: Partial<JobModel> = {}): JobModel {
  const [name = '', dependencies = ''] = line.split(':');
  return job(name.trim(), [step('s', ['true'])], { dependsOn: dependencies.split(' ').filter(Boolean), ...overrides });
}

/** Decisions as short strings: `start a`, `skip b upstream_failed`, `cancel c fail_fast (running)`. */
function show(decisions: SchedulerDecision[]): string[] {
  return decisions.map((decision) => {
    if (decision.kind === 'start') return `start ${decision.job}`;
    if (decision.kind === 'skip') return `skip ${decision.job} ${decision.reason}`;
    return `cancel ${decision.job} ${decision.reason}${decision.running ? ' (running)' : ''}`;
  });
}

const ok = (name: string) => ({ job: name, outcome: { result: 'success' } as FinishedJob });
const failed = (name: string) => ({ job: name, outcome: { result: 'failed' } as FinishedJob });
const cancelled = (name: string) => ({ job: name, outcome: { result: 'cancelled' } as FinishedJob });

/** A matrix job's expansions `base (n=1)`, … with a strategy. */
function matrix(base: string, count: number, strategy: JobModel['strategy']): JobModel[] {
  return Array.from({ length: count }, (_, index) =>
    job(`${base} (n=${index + 1})`, [step('s', ['true'])], { baseName: base, matrix: { n: index + 1 }, strategy }),
  );
}

describe('run scheduler', () => {
  test('starts the roots, then each job the moment its own dependencies have succeeded', () => {
    const scheduler = new RunScheduler(pipeline('p', [jobOf('a'), jobOf('b: a'), jobOf('c: a'), jobOf('d: b c')]));
    assert.deepEqual(show(scheduler.start()), ['start a']);
    assert.deepEqual(show(scheduler.finished([ok('a')])), ['start b', 'start c']);
    assert.deepEqual(show(scheduler.finished([ok('c')])), []);
    assert.deepEqual(show(scheduler.finished([ok('b')])), ['start d']);
    assert.equal(scheduler.done, false);
    assert.deepEqual(show(scheduler.finished([ok('d')])), []);
    assert.equal(scheduler.done, true);
  });

  test('a failure skips its dependents transitively, runs always() and failure() jobs and keeps other branches', () => {
    const scheduler = new RunScheduler(
      pipeline('p', [
        jobOf('build'),
        jobOf('test: build'),
        jobOf('package: test'),
        jobOf('report: build', { if: 'always()' }),
        jobOf('page: build', { if: 'failure()' }),
        jobOf('lint'),
      ]),
    );
    assert.deepEqual(show(scheduler.start()), ['start build', 'start lint']);
    assert.deepEqual(show(scheduler.finished([failed('build')])), [
      'skip test upstream_failed',
      'start report',
      'start page',
      'skip package upstream_failed',
    ]);
    scheduler.finished([ok('report'), ok('page'), ok('lint')]);
    assert.equal(scheduler.done, true);
  });

  test('a false condition skips the job and its dependents with condition_false', () => {
    const scheduler = new RunScheduler(
      pipeline('p', [jobOf('docs', { if: "vars.PUBLISH == 'yes'" }), jobOf('after: docs')], {
        variables: { PUBLISH: 'no' },
      }),
    );
    assert.deepEqual(show(scheduler.start()), ['skip docs condition_false', 'skip after condition_false']);
    assert.equal(scheduler.done, true);
  });

  test('never runs more than max_parallel jobs at once, starting waiting jobs in order as slots free', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const scheduler = new RunScheduler(
      pipeline(
        'p',
        names.map((name) => jobOf(name)),
        { maxParallel: 2 },
      ),
    );
    assert.deepEqual(show(scheduler.start()), ['start a', 'start b']);
    assert.deepEqual(show(scheduler.finished([ok('b')])), ['start c']);
    assert.deepEqual(scheduler.runningJobs().sort(), ['a', 'c']);
    assert.deepEqual(show(scheduler.finished([ok('a'), ok('c')])), ['start d', 'start e']);
  });

  test("a matrix's max_parallel limits its own expansions only", () => {
    const scheduler = new RunScheduler(
      pipeline('p', [...matrix('test', 3, { failFast: false, maxParallel: 1 }), jobOf('lint')]),
    );
    assert.deepEqual(show(scheduler.start()), ['start test (n=1)', 'start lint']);
    assert.deepEqual(show(scheduler.finished([failed('test (n=1)')])), ['start test (n=2)']);
    assert.deepEqual(show(scheduler.finished([ok('test (n=2)')])), ['start test (n=3)']);
  });

  test('fail_fast cancels the running expansions of the matrix and those still waiting, not other jobs', () => {
    const scheduler = new RunScheduler(
      pipeline('p', [...matrix('test', 4, { failFast: true, maxParallel: 2 }), jobOf('lint')]),
    );
    assert.deepEqual(show(scheduler.start()), ['start test (n=1)', 'start test (n=2)', 'start lint']);
    assert.deepEqual(show(scheduler.finished([failed('test (n=1)')])), [
      'cancel test (n=2) fail_fast (running)',
      'cancel test (n=3) fail_fast',
      'cancel test (n=4) fail_fast',
    ]);
    scheduler.finished([cancelled('test (n=2)')]);
    assert.equal(scheduler.done, false, 'lint still runs');
    scheduler.finished([ok('lint')]);
    assert.equal(scheduler.done, true);
  });

  test('a stop cancels running jobs but keeps cleanup jobs, and only cleanup jobs start afterwards', () => {
    const scheduler = new RunScheduler(
      pipeline('p', [
        jobOf('build'),
        jobOf('watch', { if: 'always()' }),
        jobOf('deploy: build'),
        jobOf('teardown: build', { if: 'always()' }),
        jobOf('on-cancel: build', { if: 'cancelled()' }),
        jobOf('on-failure: build', { if: 'failure()' }),
        jobOf('notify: teardown'),
      ]),
    );
    assert.deepEqual(show(scheduler.start()), ['start build', 'start watch']);
    assert.deepEqual(show(scheduler.stop('cancelled')), ['cancel build cancelled (running)']);
    assert.deepEqual(scheduler.stop('cancelled'), [], 'a second stop changes nothing');
    assert.deepEqual(show(scheduler.finished([cancelled('build')])), [
      'cancel deploy cancelled',
      'start teardown',
      'start on-cancel',
      'cancel on-failure cancelled',
    ]);
    assert.deepEqual(show(scheduler.finished([ok('teardown')])), ['cancel notify cancelled']);
    assert.deepEqual(scheduler.runningJobs().sort(), ['on-cancel', 'watch']);
    assert.deepEqual(show(scheduler.graceOver()), [
      'cancel watch cancelled (running)',
      'cancel on-cancel cancelled (running)',
    ]);
    scheduler.finished([cancelled('watch'), cancelled('on-cancel')]);
    assert.equal(scheduler.done, true);
    assert.equal(scheduler.stopReason, 'cancelled');
  });

  test('after the grace is over nothing starts, cleanup jobs included', () => {
    const scheduler = new RunScheduler(pipeline('p', [jobOf('build'), jobOf('teardown: build', { if: 'always()' })]));
    scheduler.start();
    scheduler.stop('run_timed_out');
    assert.deepEqual(show(scheduler.graceOver()), ['cancel build run_timed_out (running)']);
    assert.deepEqual(show(scheduler.finished([cancelled('build')])), ['cancel teardown run_timed_out']);
    assert.equal(scheduler.done, true);
  });

  test('reused jobs of a re-run are final at once and never started; their dependents run', () => {
    const scheduler = new RunScheduler(pipeline('p', [jobOf('a'), jobOf('b: a'), jobOf('c')]), {
      a: { result: 'success' },
    });
    assert.deepEqual(show(scheduler.start()), ['start c', 'start b']);
  });

  test('handles 5,000 jobs in one chain of completions without rescanning', () => {
    const jobs = Array.from({ length: 5000 }, (_, index) => jobOf(index === 0 ? 'j0' : `j${index}: j${index - 1}`));
    const scheduler = new RunScheduler(pipeline('p', jobs));
    let decisions = scheduler.start();
    let started = 0;
    while (decisions.length > 0) {
      started += decisions.length;
      decisions = scheduler.finished(decisions.map((decision) => ok(decision.job)));
    }
    assert.equal(started, 5000);
    assert.equal(scheduler.done, true);
  });
});
