import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePipeline, type ParseOptions, type PathSegment } from '../../../pipeline';
import { readYamlFast } from '../../../pipeline/yaml-fast-source';
import { readYaml, readYamlLocator } from '../../../pipeline/yaml-source';
import { stringify } from 'yaml';
import { createFuzzCorpus, fixtureTexts, type FuzzCorpus } from './fuzz-corpus';

/*
 * The fast YAML reader (js-yaml events) must be invisible: for any text, parsePipeline gives the same models,
 * errors and warnings — messages, lines and columns included — as the exact reader (the `yaml` library).
 */

function assertSameResult(source: string, options: ParseOptions = {}): void {
  const fast = parsePipeline(source, options);
  const exact = parsePipeline(source, { ...options, yamlEngine: 'exact' });
  assert.deepStrictEqual(fast, exact, `input: ${JSON.stringify(source).slice(0, 400)}`);
}

/** Every path in a plain value, and beside each collection a path that is not there. */
function documentPaths(value: unknown): PathSegment[][] {
  const paths: PathSegment[][] = [];
  const walk = (node: unknown, path: PathSegment[]): void => {
    paths.push(path);
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, [...path, index]));
      paths.push([...path, node.length], [...path, 'missing']);
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, item] of Object.entries(node)) walk(item, [...path, key]);
      paths.push([...path, 'missing'], [...path, 0]);
    } else {
      paths.push([...path, 'below']);
    }
  };
  walk(value, []);
  return paths;
}

/** For a text the fast reader takes: its value and every location it gives equal the exact reader's. */
function assertSameLocations(source: string): boolean {
  const fast = readYamlFast(source);
  if (!fast) return false;
  const context = `input: ${JSON.stringify(source).slice(0, 400)}`;
  const exact = readYaml(source);
  assert.deepStrictEqual(exact.errors, [], context);
  assert.deepStrictEqual(fast.value, exact.value, context);
  const locator = readYamlLocator(source);
  for (const path of documentPaths(fast.value)) {
    const needles = ['${', '}', 'a', '"', ' ', 'not-in-the-text'];
    const variants = [{}, { atKey: true }, { offset: 0 }, { offset: 2 }, ...needles.map((needle) => ({ needle }))];
    for (const options of [...variants, { needle: 'not-in-the-text', offset: 1 }]) {
      assert.deepStrictEqual(
        fast.locator.locate(path, options),
        locator.locate(path, options),
        `${context}; path ${JSON.stringify(path)}, ${JSON.stringify(options)}`,
      );
    }
  }
  return true;
}

const replacementValues: unknown[] = [
  '${NOPE}',
  '${X:-fallback}',
  '${{ matrix.x }}',
  '${{ (( }}',
  '${{ secrets.TOKEN }}',
  'build',
  'biuld',
  'test',
  10,
  -1,
  1.5,
  true,
  null,
  '15m',
  'forever',
  'UPPER:1',
  '../etc',
  'line one\nline two ${NOPE}',
  "it's",
  '"quoted"',
  '$${X}',
  '  leading',
  'trailing  ',
  'with #hash',
  'key: value',
  '- dash',
  'yes',
  '0x1F',
  '',
  ['a', '${NOPE}'],
  { image: 'node:20', script: 'make' },
];

const readableFixtures = fixtureTexts()
  .map((source) => readYaml(source).value)
  .filter((value) => typeof value === 'object' && value !== null);

/**
 * Valid YAML with problems the pipeline checks find: a fixture's data with a few values replaced, keys dropped or
 * renamed, written back in a random YAML style (block or flow, plain, quoted or block scalars, narrow lines).
 */
function structuredMutation(corpus: FuzzCorpus): string {
  const data = corpus.pick(readableFixtures);
  const edit = (node: unknown, depth: number): unknown => {
    if (Array.isArray(node)) return node.map((item) => edit(item, depth + 1));
    if (typeof node === 'object' && node !== null) {
      const entries: Array<[string, unknown]> = [];
      for (const [key, value] of Object.entries(node)) {
        const roll = corpus.next();
        if (roll < 0.03) continue;
        entries.push([roll < 0.06 ? `${key}x` : key, edit(value, depth + 1)]);
      }
      return Object.fromEntries(entries);
    }
    return corpus.next() < 0.15 ? corpus.pick(replacementValues) : node;
  };
  const styles = ['PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'] as const;
  return stringify(edit(data, 0), {
    defaultStringType: corpus.pick(styles),
    defaultKeyType: corpus.pick([null, 'PLAIN', 'QUOTE_DOUBLE'] as const),
    collectionStyle: corpus.pick(['any', 'block', 'flow'] as const),
    indent: corpus.pick([2, 4]),
    lineWidth: corpus.pick([0, 20, 80]),
    minContentWidth: 0,
    flowCollectionPadding: corpus.next() < 0.5,
  });
}

const pipeline = (deploy: string, extra = ''): string =>
  `name: p\n${extra}deploy:\n  value: ${deploy}\njobs:\n  build:\n    steps:\n      - name: s\n        script: make\n`;

/** Texts on which js-yaml and the `yaml` library could read different data, or where one of them refuses. */
const handWritten = [
  // Core-schema scalars: numbers, special floats, null and boolean forms, YAML 1.1 words that stay strings.
  ...[
    '0o17',
    '0O17',
    '017',
    '0x1F',
    '0X1F',
    '0b101',
    '1_000',
    '12345678901234567890',
    '-9007199254740993',
    '1e309',
    '-1e309',
    '.inf',
    '-.Inf',
    '+.INF',
    '.nan',
    '.NaN',
    '.NAN',
    '-0',
    '+0',
    '-0.0',
    '0.',
    '.5',
    '+.5',
    '1.0',
    '1.50',
    '1e3',
    '1E-3',
    '+12',
    '1:20',
    '2024-01-01',
    '~',
    'null',
    'Null',
    'NULL',
    'nULL',
    '',
    'true',
    'True',
    'TRUE',
    'tRUE',
    'false',
    'yes',
    'no',
    'on',
    'off',
    'y',
    'n',
    '"1"',
    "'true'",
    '!!str 1',
    '!!int "1"',
    '!!float 1',
    '!!binary aGk=',
    '!!timestamp 2024-01-01',
    '!custom x',
    '!<tag:yaml.org,2002:str> x',
    '"\\x41\\u263A\\N\\_\\e"',
    '"\\/"',
    '"a\\\n  b"',
    "'it''s'",
    '"multi\n    line"',
    'plain\n    continued',
    '[a, {b: c}, [d]]',
    '{}',
    '[]',
    '{a: 1, a: 2}',
    '{"a": 1, a: 2}',
    '{1: a, 01: b}',
    '{1: a, "1": b}',
    '{~: a}',
    '{null: a}',
    '{true: a}',
    '{on: a, yes: b}',
    '{.inf: a}',
    '{? [a]: b}',
    '{__proto__: {polluted: true}}',
    '{constructor: 1, toString: 2, hasOwnProperty: 3}',
    '|\n    literal\n    text\n',
    '|-\n    stripped\n',
    '|+\n    kept\n\n',
    '>\n    folded\n    text\n\n    para\n',
    '|2\n      indented\n',
  ].map((value) => pipeline(value)),
  // Keys, merges and anchors.
  'name: p\non: push\nyes: 1\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  'name: p\nx-base: &base {image: "node:20"}\njobs:\n  build:\n    steps:\n      - <<: *base\n        name: s\n        script: make\n',
  'name: p\nx-base: &base {name: a}\njobs:\n  build:\n    steps:\n      - <<: *base\n        name: s\n        script: make\n',
  'name: p\nx-a: &a {image: "a:1"}\nx-b: &b {image: "b:1", timeout: 5m}\njobs:\n  build:\n    steps:\n      - <<: [*a, *b]\n        name: s\n        script: make\n',
  'name: p\nx-base: &base {script: make}\njobs:\n  build:\n    steps:\n      - <<: *base\n        <<: *base\n        name: s\n',
  'name: p\njobs:\n  build:\n    steps:\n      - "<<": {x: 1}\n        name: s\n        script: make\n',
  'name: p\njobs:\n  build:\n    steps:\n      - <<: {image: "node:20", name: a}\n        name: s\n        script: make\n',
  'name: p\njobs:\n  build:\n    steps:\n      - <<: [{image: "BAD:1"}, {retry_count: 9}]\n        name: s\n        script: make\n',
  'name: p\njobs:\n  build:\n    <<: {depends_on: [nope]}\n    steps: [{name: s, script: make}]\n',
  'name: &n p\njobs:\n  build:\n    steps: [{name: *n, script: make}]\n',
  'name: p\njobs:\n  build: &job\n    steps: [{name: s, script: make}]\n  test: *job\n',
  'name: p\nname: q\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  'name: p\n"name": q\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  'name: p\n1: a\n01: b\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  'name: p\n~: a\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  'name: p\n? complex\n: key\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  `name: p\n${'k'.repeat(1030)}: long\njobs:\n  build:\n    steps: [{name: s, script: make}]\n`,
  'name: p\njobs:\n  "job\n    two":\n    steps: [{name: s, script: make}]\n',
  // Documents, directives and line breaks.
  '---\nname: p\njobs:\n  build:\n    steps: [{name: s, script: make}]\n...\n',
  'name: p\njobs:\n  build:\n    steps: [{name: s, script: make}]\n---\n',
  'name: p\njobs:\n  build:\n    steps: [{name: s, script: make}]\n---\nname: q\n',
  '%YAML 1.1\n---\nname: p\ndeploy: {a: yes, b: on}\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  '%YAML 1.2\n---\nname: p\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  '%TAG !e! tag:example.com,2000:\n---\nname: !e!x p\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  '\uFEFFname: p\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  'name: p\r\njobs:\r\n  build:\r\n    steps: [{name: s, script: "${NOPE}"}]\r\n',
  'name: p\rjobs:\r  build:\r    steps: [{name: s, script: make}]\r',
  'name: p\njobs:\n\tbuild:\n    steps: [{name: s, script: make}]\n',
  '? complex\n\t',
  'name: p\njobs:\n  build:\n    steps:\n      -\tname: s\n        script: make\n',
  'name: p\njobs:\n  build:\n    steps:\n      - name: s\n        script: |\n          \tindented by a tab\n',
  'name: p\t\njobs:\n  build:\n    steps: [{name: s, script: "a\tb"}]\n',
  'name: p\njobs:\n  build:\n    steps: [{name: s, script: make}]\n\u0000',
  'name: p\u2028\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  'name: p\u0085x\njobs:\n  build:\n    steps: [{name: s, script: make}]\n',
  '',
  '# only a comment\n',
  '---\n',
  '- a list\n',
  'just text\n',
  `name: p\ndeploy: ${'['.repeat(70)}${']'.repeat(70)}\njobs:\n  build:\n    steps: [{name: s, script: make}]\n`,
  `name: p\ndeploy: ${'['.repeat(62)}${']'.repeat(62)}\njobs:\n  build:\n    steps: [{name: s, script: make}]\n`,
  `name: p\ndeploy: ${'['.repeat(63)}${']'.repeat(63)}\njobs:\n  build:\n    steps: [{name: s, script: make}]\n`,
  // Problems found after the YAML is read, located in every kind of scalar.
  'name: p\njobs:\n  build:\n    depends_on: [nope, "build"]\n    steps:\n      - name: s\n        image: "${NOPE}"\n        script: |\n          ${ALSO_NOPE}\n',
  "name: p\njobs:\n  build:\n    if: ${{ (( }}\n    steps:\n      - name: s\n        script: 'echo ${X'\n        timeout: forever\n",
  'name: p\njobs:\n  build:\n    steps:\n      - name: s\n        script: >\n          folded ${NOPE}\n        timeout:\n',
  'name: p\njobs:\n  "bad name!":\n    steps: []\n  other:\n    unknown_key: 1\n',
  'name: p\njobs:\n  build:\n    steps:\n      - name: s\n        script: make\n      - name: s\n        script: "a\n          ${NOPE}"\n',
];

test('every fixture pipeline parses to the same result with either YAML reader', () => {
  for (const source of fixtureTexts()) {
    assertSameResult(source);
    assertSameResult(source, { vars: { X: '${Y}', VERSION: '2' }, defaultImage: 'alpine:3' });
  }
});

test('hand-written YAML edge cases parse to the same result with either YAML reader', () => {
  for (const source of handWritten) assertSameResult(source);
});

test('3,000 random and mutated inputs parse to the same result with either YAML reader', { timeout: 120_000 }, () => {
  const corpus = createFuzzCorpus(20_250_301);
  let fastPath = 0;
  for (let index = 0; index < 3000; index++) {
    const input = corpus.input(index);
    assertSameResult(input, { vars: { X: '${Y}' } });
    if (readYamlFast(input)) fastPath++;
  }
  assert.ok(fastPath > 300, `the fast reader takes a good share of the inputs (${fastPath} of 3000)`);
});

test('2,000 structured mutations in varied YAML styles parse to the same result with either reader', () => {
  const corpus = createFuzzCorpus(20_250_303);
  let fastPath = 0;
  let invalid = 0;
  for (let index = 0; index < 2000; index++) {
    const input = structuredMutation(corpus);
    assertSameResult(input);
    if (readYamlFast(input)) fastPath++;
    if (!parsePipeline(input).valid) invalid++;
  }
  assert.ok(fastPath > 1500, `the fast reader takes most of these inputs (${fastPath} of 2000)`);
  assert.ok(invalid > 500, `most of these inputs have problems to locate (${invalid} of 2000)`);
});

test('where the fast reader takes a text, its value and every location equal the exact reader', () => {
  const corpus = createFuzzCorpus(20_250_302);
  const inputs = [
    ...fixtureTexts(),
    ...handWritten,
    ...Array.from({ length: 2000 }, (_, index) => corpus.input(index)),
    ...Array.from({ length: 500 }, () => structuredMutation(corpus)),
  ];
  const taken = inputs.filter((input) => assertSameLocations(input)).length;
  assert.ok(taken > 300, `the fast reader takes a good share of the inputs (${taken} of ${inputs.length})`);
});

test('the fast reader declines what only the exact reader handles', () => {
  const declined = [
    'name: &n p\njobs: {}\n',
    'name: !!str p\njobs: {}\n',
    'x: &a {b: 1}\ny:\n  <<: *a\n',
    '%YAML 1.1\n---\nname: p\n',
    'name: p\n---\nname: q\n',
    'name: p\nname: q\n',
    '1: a\n',
    '- a\n',
    '',
    'name: [\n',
  ];
  for (const source of declined) assert.equal(readYamlFast(source), undefined, JSON.stringify(source));
  assert.notEqual(readYamlFast('name: p\njobs: {}\n'), undefined);
});
