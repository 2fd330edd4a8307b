import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkExpression,
  decideJob,
  evaluateExpression,
  type ExpressionContext,
  type ExpressionValue,
} from '../../../pipeline';
import { parseValid } from './fixtures';

function value(source: string, context: ExpressionContext = {}): ExpressionValue {
  const result = evaluateExpression(source, context);
  if (!result.ok) throw new Error(`${source}: ${result.message} at ${result.offset}`);
  return result.value;
}

function failure(source: string, context: ExpressionContext = {}): { message: string; offset: number } {
  const result = evaluateExpression(source, context);
  if (result.ok) throw new Error(`${source} evaluated to ${JSON.stringify(result.value)}`);
  return result;
}

describe('expression operators', () => {
  test('literals: strings with doubled quotes, numbers, booleans, null', () => {
    assert.equal(value("'it''s'"), "it's");
    assert.equal(value('42'), 42);
    assert.equal(value('-1.5'), -1.5);
    assert.equal(value('0x1F'), 31);
    assert.equal(value('true'), true);
    assert.equal(value('null'), null);
  });

  test('comparison and equality, strings ignoring case, mixed types as numbers', () => {
    assert.equal(value("env.STAGE == 'Production'", { env: { STAGE: 'production' } }), true);
    assert.equal(value("'a' != 'b'"), true);
    assert.equal(value("'10' == 10"), true);
    assert.equal(value('1 < 2'), true);
    assert.equal(value('2 <= 2'), true);
    assert.equal(value("'b' > 'a'"), true);
    assert.equal(value('3 >= 4'), false);
    assert.equal(value("'abc' < 5"), false);
  });

  test('&& and || return an operand, ! negates, parentheses group', () => {
    assert.equal(value("'' || 'fallback'"), 'fallback');
    assert.equal(value("'x' && 'y'"), 'y');
    assert.equal(value('!(1 == 1) || (2 == 2 && !false)'), true);
    assert.equal(value('!0'), true);
  });

  test('property access: dots, indexes, missing properties read null', () => {
    const context: ExpressionContext = { needs: { build: { result: 'success' } }, matrix: { node: 18 } };
    assert.equal(value('needs.build.result', context), 'success');
    assert.equal(value("needs['build']['result']", context), 'success');
    assert.equal(value('needs.deploy.result', context), null);
    assert.equal(value('matrix.node == 18', context), true);
    assert.equal(value("fromJSON('[1,2,3]')[1]"), 2);
    assert.equal(value('env.__proto__', { env: {} }), null);
    assert.equal(value('env.constructor', { env: {} }), null);
  });

  test('job names with hyphens are property names', () => {
    assert.equal(value('needs.build-frontend.result', { needs: { 'build-frontend': { result: 'failed' } } }), 'failed');
  });
});

describe('expression functions', () => {
  test('contains, startsWith, endsWith (ignoring case)', () => {
    assert.equal(value("contains(env.FEATURES, 'experimental')", { env: { FEATURES: 'fast,Experimental' } }), true);
    assert.equal(value('contains(fromJSON(\'["a","b"]\'), \'b\')'), true);
    assert.equal(value("startsWith(env.BRANCH, 'release/')", { env: { BRANCH: 'Release/1.2' } }), true);
    assert.equal(value("endsWith('app.jar', '.JAR')"), true);
  });

  test('join and format', () => {
    assert.equal(value("join(fromJSON('[3.9, 3.10]'), ' ')"), '3.9 3.1');
    assert.equal(value('join(fromJSON(\'["a","b"]\'))'), 'a,b');
    assert.equal(value("format('v{0}.{1}.{2}', 1, 2, 3)"), 'v1.2.3');
    assert.equal(value("format('v{}.{}', 1, 2)"), 'v1.2');
    assert.equal(value("format('{{literal}} {0}', 'x')"), '{literal} x');
  });

  test('fromJSON and toJSON', () => {
    assert.deepEqual(value('fromJSON(env.META)', { env: { META: '{"count": 2}' } }), { count: 2 });
    assert.equal(value('fromJSON(env.META).count', { env: { META: '{"count": 2}' } }), 2);
    assert.equal(value('toJSON(fromJSON(\'{"a":1}\'))'), '{\n  "a": 1\n}');
  });

  test('status functions follow the needs results, or the status the caller gives', () => {
    const ok: ExpressionContext = { needs: { a: { result: 'success' } } };
    const bad: ExpressionContext = { needs: { a: { result: 'failed' } } };
    assert.deepEqual(
      [value('success()', ok), value('failure()', ok), value('always()', ok), value('cancelled()', ok)],
      [true, false, true, false],
    );
    assert.deepEqual([value('success()', bad), value('failure()', bad)], [false, true]);
    assert.equal(value('cancelled()', { status: { success: false, failure: false, cancelled: true } }), true);
    assert.equal(value('success()', { status: { success: true, failure: false, cancelled: true } }), false);
  });
});

describe('malformed expressions', () => {
  const cases: Array<[string, RegExp, number]> = [
    ["env.A == 'x", /unterminated string/, 9],
    ['env.A = 1', /did you mean '=='/, 6],
    ['env.A & env.B', /did you mean '&&'/, 6],
    ['(1 == 1', /expected '\)'/, 7],
    ['1 == ', /ends too early/, 5],
    ['success() success()', /after a complete expression/, 10],
    ['env.', /property name after '\.'/, 4],
    ['"double"', /single quotes/, 0],
    ['', /empty/, 0],
    ['1 # 2', /unexpected character '#'/, 2],
    ['contains(1)', /takes 2 arguments, got 1/, 0],
    ["fromJSON('{')", /not valid JSON/, 0],
    ["format('{0}')", /has no argument/, 0],
    ['nosuch()', /unknown function/, 0],
  ];
  for (const [source, message, offset] of cases) {
    test(`${JSON.stringify(source)} fails with ${message} at offset ${offset}`, () => {
      const result = failure(source);
      assert.match(result.message, message);
      assert.equal(result.offset, offset);
    });
  }

  test('evaluation is bounded: deep nesting and huge inputs fail cleanly instead of hanging', () => {
    assert.match(failure(`${'('.repeat(500)}1${')'.repeat(500)}`).message, /nested more than/);
    assert.match(failure(`${'!'.repeat(500)}true`).message, /nested more than/);
    assert.match(failure(`'${'x'.repeat(20_000)}'`).message, /longer than/);
    const wide = (count: number) => Array.from({ length: count }, () => 'true').join(' && ');
    assert.equal(value(wide(1200)), true);
    assert.match(failure(wide(6000)).message, /longer than 10000 characters/);
  });

  test('eval and friends do not exist: identifiers are context lookups, calls are whitelisted', () => {
    assert.equal(value('constructor'), null);
    assert.match(failure("eval('1')").message, /unknown function eval/);
  });

  test('static checks name unknown functions, contexts and needs with suggestions', () => {
    const problems = checkExpression("startswith(nedds.build.result, 'x') && needs.tset.result", {
      contexts: ['env', 'vars', 'matrix', 'needs'],
      statusFunctions: true,
      needs: ['test'],
    });
    assert.deepEqual(
      problems.map((problem) => [problem.code, problem.message]),
      [
        ['unknown_function', 'unknown function startswith() (did you mean startsWith()?)'],
        ['expression_context', "unknown context 'nedds' (did you mean 'needs'?)"],
        ['expression_context', "needs.tset: 'tset' is not a dependency of this job (did you mean 'test'?)"],
      ],
    );
  });
});

describe('deciding whether a ready job runs', () => {
  const pipeline = parseValid(
    [
      'name: p',
      'jobs:',
      '  build: {steps: [{name: s, script: x}]}',
      '  test: {needs: [build], steps: [{name: s, script: x}]}',
      '  notify: {needs: [test], if: "failure()", steps: [{name: s, script: x}]}',
      '  cleanup: {needs: [test], if: "${{ always() }}", steps: [{name: s, script: x}]}',
      '  deploy: {needs: [test], if: "vars.TARGET == \'prod\'", steps: [{name: s, script: x}]}',
      '',
    ].join('\n'),
    { vars: { TARGET: 'prod' } },
  );
  const job = (name: string) => pipeline.jobs.find((candidate) => candidate.name === name) ?? assert.fail(name);

  test('without if: runs when dependencies succeeded, else skipped upstream_failed', () => {
    assert.deepEqual(decideJob(pipeline, job('test'), { build: { result: 'success' } }), { run: true });
    assert.deepEqual(decideJob(pipeline, job('test'), { build: { result: 'failed' } }), {
      run: false,
      reason: 'upstream_failed',
    });
    assert.deepEqual(decideJob(pipeline, job('test'), { build: { result: 'skipped', reason: 'condition_false' } }), {
      run: false,
      reason: 'condition_false',
    });
  });

  test('an if: without status functions is implicitly success() && if', () => {
    assert.deepEqual(decideJob(pipeline, job('deploy'), { test: { result: 'success' } }), { run: true });
    assert.deepEqual(decideJob(pipeline, job('deploy'), { test: { result: 'failed' } }), {
      run: false,
      reason: 'upstream_failed',
    });
    const staging = { ...pipeline, variables: { TARGET: 'staging' } };
    assert.deepEqual(decideJob(staging, job('deploy'), { test: { result: 'success' } }), {
      run: false,
      reason: 'condition_false',
    });
  });

  test('failure() and always() run after a failure upstream, including a transitive one', () => {
    const upstreamFailed = { test: { result: 'skipped' as const, reason: 'upstream_failed' as const } };
    assert.deepEqual(decideJob(pipeline, job('notify'), upstreamFailed), { run: true });
    assert.deepEqual(decideJob(pipeline, job('cleanup'), upstreamFailed), { run: true });
    assert.deepEqual(decideJob(pipeline, job('notify'), { test: { result: 'success' } }), {
      run: false,
      reason: 'condition_false',
    });
  });
});
