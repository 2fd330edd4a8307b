import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { engineTaskQueue, parsePoolList, poolTaskQueue } from '../../../pipeline/runner-pool';
import { parseErrors, parseValid } from './fixtures';

describe('runs_on and queue_timeout (runner pools)', () => {
  test('a job takes its own runs_on, else the pipeline default; the default pool is not recorded', () => {
    const pipeline = parseValid(
      'name: p\nruns_on: big-memory\nqueue_timeout: 10m\njobs:\n  a: {steps: [{name: s, script: x}]}\n  b: {runs_on: gpu, queue_timeout: 30, steps: [{name: s, script: x}]}\n  c: {runs_on: default, steps: [{name: s, script: x}]}\n',
    );
    assert.deepEqual(
      pipeline.jobs.map((job) => [job.pool, job.queueTimeoutSeconds]),
      [
        ['big-memory', 600],
        ['gpu', 30],
        [undefined, 600],
      ],
    );
  });

  test('without runs_on a job has no pool and the default queue timeout', () => {
    const [job] = parseValid('name: p\njobs:\n  a: {steps: [{name: s, script: x}]}\n').jobs;
    assert.equal(job?.pool, undefined);
    assert.equal(job?.queueTimeoutSeconds, undefined);
  });

  test('a bad pool name is an error at its line and column, with a hint', () => {
    const errors = parseErrors('name: p\njobs:\n  a:\n    runs_on: "big memory"\n    steps: [{name: s, script: x}]\n');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.path, 'jobs.a.runs_on');
    assert.equal(errors[0]?.line, 4);
    assert.equal(errors[0]?.column, 14);
    assert.match(errors[0]?.message ?? '', /'big memory' is not a valid pool name/);
    assert.match(errors[0]?.hint ?? '', /letters, digits/);
  });

  test('runs_on must be a string and queue_timeout a duration in range', () => {
    const errors = parseErrors(
      'name: p\nqueue_timeout: 2d\njobs:\n  a:\n    runs_on: [a, b]\n    steps: [{name: s, script: x}]\n',
    );
    assert.deepEqual(
      errors.map((error) => [error.path, error.line]),
      [
        ['queue_timeout', 2],
        ['jobs.a.runs_on', 5],
      ],
    );
  });

  test('the default pool keeps the Docker queue of old; other pools get their own', () => {
    assert.equal(poolTaskQueue('conveyor', undefined), 'conveyor-docker');
    assert.equal(poolTaskQueue('conveyor', 'default'), 'conveyor-docker');
    assert.equal(poolTaskQueue('conveyor', 'big-memory'), 'conveyor-docker.big-memory');
  });

  test("a Docker engine's queue within a pool: the pool's queue, @, the engine id with only safe characters", () => {
    assert.equal(engineTaskQueue('conveyor-docker', 'host-7'), 'conveyor-docker@host-7');
    assert.equal(
      engineTaskQueue('conveyor-docker.gpu', 'ABCD:EFGH:1234/x y'),
      'conveyor-docker.gpu@ABCD-EFGH-1234-x-y',
    );
  });

  test('CONVEYOR_POOLS: a comma-separated list, default "default", a bad name in one line', () => {
    assert.deepEqual(parsePoolList(undefined), ['default']);
    assert.deepEqual(parsePoolList(' default , gpu,gpu'), ['default', 'gpu']);
    assert.throws(
      () => parsePoolList('default,big memory'),
      /^Error: CONVEYOR_POOLS: 'big memory' is not a valid pool name/,
    );
  });
});
