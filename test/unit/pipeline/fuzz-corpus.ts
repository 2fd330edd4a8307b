import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../helpers/seeded-random';
import { fixtureDirectory } from './fixtures';

/** Deterministic PRNG, so that a failing input can be reproduced from its seed and index. */
export const random = seededRandom;

/** Lines and pieces of pipeline YAML, valid and not, that random documents and mutations are made of. */
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

/** A seeded source of fuzz inputs: random documents from fragments, and mutations of the fixture files. */
export interface FuzzCorpus {
  /** The PRNG itself, for callers that draw further random choices from the same sequence. */
  next: () => number;
  pick: <T>(items: readonly T[]) => T;
  /** 1 to 25 random fragments, one a line. */
  randomDocument: () => string;
  /** 1 to 6 random edits (delete, insert a character or a fragment, duplicate a line, add spaces). */
  mutate: (source: string) => string;
  /** Every fixture file (valid pipelines and errors/), the texts that mutations start from. */
  seeds: string[];
  /** The input at `index`: every third a random document, the others a mutated fixture. */
  input: (index: number) => string;
}

/** Creates the corpus for `seed`; the same seed yields the same inputs in the same order. */
export function createFuzzCorpus(seed: number): FuzzCorpus {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;

  const randomDocument = (): string => {
    const lines: string[] = [];
    const count = 1 + Math.floor(next() * 25);
    for (let index = 0; index < count; index++) lines.push(pick(fragments));
    return lines.join('\n');
  };

  const mutate = (source: string): string => {
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
  };

  const seeds = fixtureTexts();
  const input = (index: number): string => (index % 3 === 0 ? randomDocument() : mutate(pick(seeds)));
  return { next, pick, randomDocument, mutate, seeds, input };
}

/** The text of every fixture pipeline, valid ones first, then errors/. */
export function fixtureTexts(): string[] {
  const files = readdirSync(fixtureDirectory)
    .filter((file) => file.endsWith('.yml'))
    .sort()
    .map((file) => join(fixtureDirectory, file));
  const errors = readdirSync(join(fixtureDirectory, 'errors'))
    .sort()
    .map((file) => join(fixtureDirectory, 'errors', file));
  return [...files, ...errors].map((file) => readFileSync(file, 'utf8'));
}
