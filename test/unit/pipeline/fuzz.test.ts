import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateExpression, parsePipeline, type ParseResult } from '../../../pipeline';
import { createFuzzCorpus } from './fuzz-corpus';

const seed = 20_240_601;
const corpus = createFuzzCorpus(seed);
const { next, pick } = corpus;

function assertStructured(result: ParseResult, input: string): void {
  const context = `input: ${JSON.stringify(input).slice(0, 300)}`;
  assert.equal(typeof result.valid, 'boolean', context);
  const diagnostics = [...(result.valid ? [] : result.errors), ...result.warnings];
  if (!result.valid) assert.ok(result.errors.length > 0, `an invalid result names at least one error; ${context}`);
  for (const diagnostic of diagnostics) {
    assert.equal(typeof diagnostic.code, 'string', context);
    assert.notEqual(diagnostic.code, 'internal_error', `${diagnostic.message}; ${context}`);
    assert.ok(Number.isInteger(diagnostic.line) && diagnostic.line >= 1, context);
    assert.ok(Number.isInteger(diagnostic.column) && diagnostic.column >= 1, context);
    assert.equal(typeof diagnostic.message, 'string', context);
    assert.equal(typeof diagnostic.path, 'string', context);
  }
  if (result.valid) assert.doesNotThrow(() => JSON.stringify(result.pipeline), context);
}

test(
  `5,000 random and mutated YAML inputs only ever produce a structured result (seed ${seed})`,
  { timeout: 120_000 },
  () => {
    let valid = 0;
    for (let index = 0; index < 5000; index++) {
      const input = corpus.input(index);
      const result = parsePipeline(input, { vars: { X: '${Y}' } });
      assertStructured(result, input);
      if (result.valid) valid++;
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    assert.ok(valid > 0, 'some mutations stay valid, so the valid path is exercised too');
  },
);

test('2,000 random expressions evaluate or fail with a message, never throw', { timeout: 60_000 }, () => {
  const tokens = [
    'needs',
    '.',
    'build',
    'result',
    '==',
    '!=',
    '&&',
    '||',
    '!',
    '(',
    ')',
    '[',
    ']',
    ',',
    "'x'",
    '1',
    'null',
    'true',
    'success()',
    'contains(',
    'format(',
    "'{0}'",
    'fromJSON(',
    "'[1]'",
    'env',
    'join(',
    '<',
    '>=',
    ' ',
  ];
  for (let index = 0; index < 2000; index++) {
    const source = Array.from({ length: 1 + Math.floor(next() * 15) }, () => pick(tokens)).join(' ');
    const result = evaluateExpression(source, { needs: { build: { result: 'success' } }, env: { A: 'a' } });
    if (!result.ok) {
      assert.equal(typeof result.message, 'string');
      assert.ok(result.offset >= 0 && result.offset <= source.length, `${source}: offset ${result.offset}`);
    }
  }
});
