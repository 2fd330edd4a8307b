import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateExpression, parsePipeline, type ParseResult } from '../../../pipeline';
import { fixtureDirectory } from './fixtures';

/** Deterministic PRNG (mulberry32) so that a failing input can be reproduced from its seed and index. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const seed = 20_240_601;
const next = random(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;

const fragments = [
  'name: p',
  'jobs:',
  '  build:',
  '    steps:',
  '      - name: s',
  '        script: make',
  '    needs: [build]',
  '    depends_on: build',
  '    if: ${{ success() }}',
  '    matrix: {node: [18, 20], include: [{node: 22}]}',
  '    timeout: 15m',
  'global_env: {A: "${B}", B: "${A}"}',
  '  &anchor',
  '*anchor',
  '<<: *x',
  '---',
  '- - -',
  '{',
  '}',
  '[',
  ']',
  '"',
  "'",
  '${',
  '${{',
  '}}',
  '$${X}',
  '${X:-${Y}}',
  '${X//a/b}',
  '!!binary',
  '!tag',
  '? complex',
  ': ',
  '\t',
  '#',
  '|',
  '>',
  '~',
  'null',
  '0x1F',
  '-1e309',
  '__proto__: {polluted: true}',
  'constructor: x',
  'artifacts: {a: /etc}',
  'retry_count: 99',
  'image: "UPPER:1"',
  'script: [1, true, null]',
  'if: "(((("',
  'if: "fromJSON(\'{\')"',
];
const characters = ' \n\t:-[]{}#&*!|>\'"%@`,?$\\/.0123456789abcxyz_äö€\u0000';

function randomDocument(): string {
  const lines: string[] = [];
  const count = 1 + Math.floor(next() * 25);
  for (let index = 0; index < count; index++) lines.push(pick(fragments));
  return lines.join('\n');
}

function mutate(source: string): string {
  let text = source;
  const edits = 1 + Math.floor(next() * 6);
  for (let edit = 0; edit < edits; edit++) {
    const at = Math.floor(next() * (text.length + 1));
    switch (Math.floor(next() * 5)) {
      case 0:
        text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 8));
        break;
      case 1:
        text = text.slice(0, at) + pick([...characters]) + text.slice(at);
        break;
      case 2:
        text = text.slice(0, at) + pick(fragments) + text.slice(at);
        break;
      case 3: {
        const lines = text.split('\n');
        const line = Math.floor(next() * lines.length);
        lines.splice(line, 0, lines[Math.floor(next() * lines.length)] ?? '');
        text = lines.join('\n');
        break;
      }
      default:
        text = text.slice(0, at) + ' '.repeat(Math.floor(next() * 4)) + text.slice(at);
    }
  }
  return text;
}

function seeds(): string[] {
  const files = readdirSync(fixtureDirectory)
    .filter((file) => file.endsWith('.yml'))
    .map((file) => join(fixtureDirectory, file));
  const errors = readdirSync(join(fixtureDirectory, 'errors')).map((file) => join(fixtureDirectory, 'errors', file));
  return [...files, ...errors].map((file) => readFileSync(file, 'utf8'));
}

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
    const corpus = seeds();
    let valid = 0;
    for (let index = 0; index < 5000; index++) {
      const input = index % 3 === 0 ? randomDocument() : mutate(pick(corpus));
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
