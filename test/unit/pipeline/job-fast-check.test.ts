import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleJobInput } from '../../../pipeline/job-fast-check';
import { jobSchema } from '../../../pipeline/schema';
import { seededRandom } from '../../helpers/seeded-random';

// Values each field may take: valid ones and every kind of invalid one the schema words an error for.
const pools: Record<string, unknown[]> = {
  name: ['build', 'x'.repeat(100), '', 'x'.repeat(101), 7, null, ['a']],
  script: [
    ['make', 'make test'],
    ['echo 1', 2, true],
    'make',
    [],
    ['  ', ''],
    '   ',
    [null],
    [Infinity],
    [{ a: 1 }],
    null,
    42,
  ],
  image: ['alpine:3', '', 5, null],
  environment: [
    { A: 'x', B: 2, C: false, D: null },
    {},
    { 'bad-name': 'x' },
    { A: ['x'] },
    { A: { b: 1 } },
    { A: Infinity },
    ['A=x'],
    'A=x',
    null,
  ],
  working_directory: ['app', '/workspace/app', 3, null],
  stepTimeout: ['10m', 90, '90', '1h30m', '2h', 0, -5, 1.5, '10x', '', Infinity, true, null],
  jobTimeout: ['10m', 3600, '61m', 0, 'soon', null],
  stepRetry: [0, 3, 4, -1, 1.5, '2', null],
  jobRetry: [0, 5, 6, 2.5, null],
  retryOn: [[1, 255], [], [0], [256], [1.5], ['1'], 1, null],
  continueOnFailure: [true, false, 'yes', null],
  dependencies: ['build', ['a', 'b'], [], [1], 3, null],
  condition: ['success()', true, false, 3, null],
  unknownKey: ['x'],
};

/** A value from a pool: mostly its first (valid) entries, so that many jobs are valid throughout. */
function pick<T>(next: () => number, values: readonly T[]): T {
  const span = next() < 0.85 ? Math.min(2, values.length) : values.length;
  return values[Math.floor(next() * span)] as T;
}

/** Sets each `key` or `key:pool` field with the given probability, to a value from its pool. */
function addSome(next: () => number, target: Record<string, unknown>, probability: number, fields: string[]): void {
  for (const field of fields) {
    const [key = field, pool = key] = field.split(':');
    if (next() < probability) target[key] = pick(next, pools[pool] ?? []);
  }
}

function randomStep(next: () => number): unknown {
  if (next() < 0.03) return pick(next, ['step', null, ['name']]);
  const step: Record<string, unknown> = {};
  if (next() < 0.97) step.name = pick(next, pools.name ?? []);
  if (next() < 0.97) step.script = pick(next, pools.script ?? []);
  // Each optional field, from the pool of the same name or the one given.
  addSome(next, step, 0.2, [
    'image',
    'environment',
    'working_directory',
    'timeout:stepTimeout',
    'retry_count:stepRetry',
  ]);
  addSome(next, step, 0.2, ['retry_on:retryOn', 'continue_on_failure:continueOnFailure']);
  if (next() < 0.03) step.shell = 'bash';
  return step;
}

function randomJob(next: () => number): Record<string, unknown> {
  const job: Record<string, unknown> = {};
  if (next() < 0.95) job.steps = Array.from({ length: Math.floor(next() * 3.3) }, () => randomStep(next));
  addSome(next, job, 0.25, ['depends_on:dependencies', 'needs:dependencies', 'image', 'environment']);
  addSome(next, job, 0.25, ['timeout:jobTimeout', 'retry_count:jobRetry', 'if:condition', 'conditional:condition']);
  if (next() < 0.05) job.network = 'egress';
  if (next() < 0.03) job.stepz = [];
  return job;
}

describe('the fast check of common jobs', () => {
  it('gives exactly what the job schema gives, and takes nothing the schema rejects', () => {
    const next = seededRandom(7);
    const counts = { taken: 0, rejectedBySchema: 0 };
    for (let index = 0; index < 5000; index++) {
      const job = randomJob(next);
      const fast = simpleJobInput(job);
      const schema = jobSchema.safeParse(job);
      if (!schema.success) counts.rejectedBySchema++;
      if (fast === undefined) continue;
      counts.taken++;
      assert.ok(schema.success, `the fast check took a job the schema rejects: ${JSON.stringify(job)}`);
      assert.deepStrictEqual(fast, schema.data, `different output for ${JSON.stringify(job)}`);
    }
    // The generator reaches both sides often enough for the comparison to mean something.
    assert.ok(counts.taken > 200, `only ${counts.taken} jobs took the fast path`);
    assert.ok(counts.rejectedBySchema > 500, `only ${counts.rejectedBySchema} jobs were invalid`);
  });

  it('takes a typical job and turns its values as the schema does', () => {
    const job = {
      depends_on: ['build'],
      environment: { OUT: 'dist', COUNT: 3, ON: true, EMPTY: null },
      timeout: '15m',
      steps: [{ name: 'test', script: ['npm test', 42], timeout: 90, retry_on: [137] }],
    };
    assert.deepStrictEqual(simpleJobInput(job), jobSchema.parse(job));
    assert.deepStrictEqual(simpleJobInput(job)?.environment, { OUT: 'dist', COUNT: '3', ON: 'true', EMPTY: '' });
  });

  it('leaves other fields and doubtful values to the schema', () => {
    const step = { name: 'a', script: ['x'] };
    assert.equal(simpleJobInput({ steps: [step], matrix: { os: ['a'] } }), undefined);
    assert.equal(simpleJobInput({ steps: [step], deploy: {} }), undefined);
    assert.equal(simpleJobInput({ steps: [{ ...step, timeout: '31m' }] }), undefined);
    assert.equal(simpleJobInput({ steps: [{ ...step, script: ['  '] }] }), undefined);
    assert.equal(simpleJobInput({ steps: [] }), undefined);
    assert.equal(simpleJobInput({ steps: [step], environment: { __proto__: null, A: 'x' } }), undefined);
  });
});
