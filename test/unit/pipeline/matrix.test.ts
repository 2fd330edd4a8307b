import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPlan, expandMatrix } from '../../../pipeline';
import { parseErrors, parseValid, readFixture } from './fixtures';

describe('matrix expansion', () => {
  test('the product of the axes, in the order written', () => {
    const { combinations } = expandMatrix({ node: [18, 20], os: ['linux', 'mac'] });
    assert.deepEqual(combinations, [
      { node: 18, os: 'linux' },
      { node: 18, os: 'mac' },
      { node: 20, os: 'linux' },
      { node: 20, os: 'mac' },
    ]);
  });

  test('exclude drops every combination matching all of an entry’s keys', () => {
    const { combinations } = expandMatrix({ node: [18, 20], os: ['linux', 'mac'], exclude: [{ os: 'mac' }] });
    assert.deepEqual(combinations, [
      { node: 18, os: 'linux' },
      { node: 20, os: 'linux' },
    ]);
  });

  test('include extends matching combinations, or adds a combination when it contradicts them all', () => {
    const { combinations } = expandMatrix({
      node: [18, 20],
      include: [{ node: 20, npm: 10 }, { node: 22 }, { node: 22, experimental: true }],
    });
    assert.deepEqual(combinations, [
      { node: 18 },
      { node: 20, npm: 10 },
      { node: 22 },
      { node: 22, experimental: true },
    ]);
  });

  test('an include-only matrix lists its combinations', () => {
    assert.deepEqual(expandMatrix({ include: [{ os: 'a' }, { os: 'b' }] }).combinations, [{ os: 'a' }, { os: 'b' }]);
  });

  test('the fixture expands into named jobs, and a dependent waits for every expansion', () => {
    const pipeline = parseValid(readFixture('matrix.yml'));
    assert.deepEqual(
      pipeline.jobs.map((job) => job.name),
      [
        'test (node=18, os=linux, experimental=true)',
        'test (node=20, os=linux, experimental=true)',
        'test (node=20, os=mac)',
        'test (node=22, os=linux)',
        'report',
      ],
    );
    const expansions = pipeline.jobs.slice(0, 4);
    assert.deepEqual(
      expansions.map((job) => job.steps[0]?.image),
      ['node:18', 'node:20', 'node:20', 'node:22'],
    );
    assert.deepEqual(
      expansions.map((job) => job.steps[0]?.name),
      ['test on linux', 'test on linux', 'test on mac', 'test on linux'],
    );
    assert.deepEqual(
      expansions.map((job) => job.steps[0]?.script[0]),
      ['npm test -- --node=18', 'npm test -- --node=20', 'npm test -- --node=20', 'npm test -- --node=22'],
    );
    assert.deepEqual(expansions[2]?.matrix, { node: 20, os: 'mac' });
    assert.deepEqual(expansions[0]?.strategy, { failFast: false, maxParallel: 2 });
    assert.equal(expansions[0]?.baseName, 'test');
    assert.deepEqual(
      pipeline.jobs[4]?.dependsOn,
      expansions.map((job) => job.name),
    );
    assert.equal(pipeline.jobs[4]?.if, '(always())');
    assert.deepEqual(
      createPlan(pipeline).levels.map((level) => level.length),
      [4, 1],
    );
  });

  test('matrix errors: a scalar axis, an unknown exclude key, a misspelt keyword, too many combinations', () => {
    const errors = parseErrors(
      [
        'name: p',
        'jobs:',
        '  a:',
        '    matrix: {node: 18}',
        '    steps: [{name: s, script: x}]',
        '  b:',
        '    matrix: {node: [18], exclude: [{nod: 18}]}',
        '    steps: [{name: s, script: x}]',
        '  c:',
        '    matrix: {node: [18], fail_fst: true}',
        '    steps: [{name: s, script: x}]',
        '  d:',
        `    matrix: {x: [${Array.from({ length: 17 }, (_, index) => index).join(', ')}], y: [${Array.from({ length: 17 }, (_, index) => index).join(', ')}]}`,
        '    steps: [{name: s, script: x}]',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      errors.map((error) => [error.code, error.path]),
      [
        ['matrix', 'jobs.a.matrix.node'],
        ['matrix', 'jobs.b.matrix.exclude[0].nod'],
        ['matrix', 'jobs.c.matrix.fail_fst'],
        ['matrix', 'jobs.d.matrix'],
      ],
    );
    assert.match(errors[3]?.message ?? '', /289 combinations, more than the 256 allowed/);
  });

  test('a matrix value referenced but not defined is an error naming the axes', () => {
    const [error] = parseErrors(
      'name: p\njobs:\n  a:\n    matrix: {node: [18]}\n    steps: [{name: s, script: "echo ${{ matrix.nod }}"}]\n',
    );
    assert.equal(error?.code, 'expression_context');
    assert.match(error?.message ?? '', /did you mean 'node'/);
  });
});
