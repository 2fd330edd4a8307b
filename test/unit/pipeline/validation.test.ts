import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePipeline } from '../../../pipeline';
import { oneStep, parseErrors, parseValid, readFixture } from './fixtures';

describe('schema: fields, aliases and defaults', () => {
  test('needs is an alias of depends_on, and a single name may replace the list', () => {
    const pipeline = parseValid(
      'name: p\njobs:\n  a: {steps: [{name: s, script: x}]}\n  b: {needs: a, steps: [{name: s, script: x}]}\n  c: {depends_on: [a, b], steps: [{name: s, script: x}]}\n',
    );
    assert.deepEqual(
      pipeline.jobs.map((job) => job.dependsOn),
      [[], ['a'], ['a', 'b']],
    );
  });

  test('conditional is an alias of if; a boolean if is allowed', () => {
    const pipeline = parseValid(
      'name: p\njobs:\n  a: {conditional: "vars.STAGE == \'prod\'", steps: [{name: s, script: x}]}\n  b: {if: false, steps: [{name: s, script: x}]}\n  c: {if: true, steps: [{name: s, script: x}]}\n',
    );
    assert.deepEqual(
      pipeline.jobs.map((job) => job.if),
      ["vars.STAGE == 'prod'", 'false', undefined],
    );
  });

  test('giving both an alias and its field is an error naming both', () => {
    const errors = parseErrors(
      'name: p\njobs:\n  a: {steps: [{name: s, script: x}]}\n  b: {needs: [a], depends_on: [a], steps: [{name: s, script: x}]}\n',
    );
    assert.equal(errors[0]?.code, 'schema');
    assert.match(errors[0]?.message ?? '', /both depends_on and needs/);
  });

  test('script may be one string (kept whole, e.g. a block scalar) or a list', () => {
    const pipeline = parseValid(
      'name: p\njobs:\n  a:\n    steps:\n      - name: s\n        script: |\n          npm ci\n          npm test\n',
    );
    assert.deepEqual(pipeline.jobs[0]?.steps[0]?.script, ['npm ci\nnpm test\n']);
  });

  test('durations accept seconds and strings with units', () => {
    const pipeline = parseValid(
      'name: p\ntimeout: 2h\njobs:\n  a:\n    timeout: 15m\n    steps:\n      - {name: s, script: x, timeout: 90s}\n      - {name: t, script: x, timeout: "1m30s"}\n      - {name: u, script: x, timeout: 45}\n',
    );
    assert.equal(pipeline.timeoutSeconds, 7200);
    assert.equal(pipeline.jobs[0]?.timeoutSeconds, 900);
    assert.deepEqual(
      pipeline.jobs[0]?.steps.map((step) => step.timeoutSeconds),
      [90, 90, 45],
    );
  });

  test('a malformed duration is invalid_duration with the accepted forms in the hint', () => {
    const [error] = parseErrors(oneStep('script: x, timeout: 10 minutes'));
    assert.equal(error?.code, 'invalid_duration');
    assert.equal(error?.path, 'jobs.build.steps[0].timeout');
    assert.match(error?.hint ?? '', /"15m"/);
  });

  test('a zero step timeout is out of range', () => {
    const [error] = parseErrors(oneStep('script: x, timeout: 0'));
    assert.equal(error?.code, 'invalid_duration');
    assert.match(error?.message ?? '', /between 1 s and 1800 s/);
  });

  test('job retry_count allows 0–5 and step retry_count 0–3', () => {
    assert.equal(
      parseValid('name: p\njobs:\n  a: {retry_count: 5, steps: [{name: s, script: x, retry_count: 3}]}\n').jobs[0]
        ?.retryCount,
      5,
    );
    const errors = parseErrors(
      'name: p\njobs:\n  a: {retry_count: 6, steps: [{name: s, script: x, retry_count: -1}]}\n',
    );
    assert.deepEqual(
      errors.map((error) => [error.code, error.path]),
      [
        ['out_of_range', 'jobs.a.retry_count'],
        ['out_of_range', 'jobs.a.steps[0].retry_count'],
      ],
    );
  });

  test('the step image defaults to the job image, then to the defaultImage option, then to ubuntu:20.04', () => {
    const source =
      'name: p\njobs:\n  a: {image: node:20, steps: [{name: s, script: x}, {name: t, script: x, image: alpine:3}]}\n  b: {steps: [{name: s, script: x}]}\n';
    const images = (options?: { defaultImage: string }) =>
      parseValid(source, options).jobs.flatMap((job) => job.steps.map((step) => step.image));
    assert.deepEqual(images(), ['node:20', 'alpine:3', 'ubuntu:20.04']);
    assert.deepEqual(images({ defaultImage: 'conveyor/base:1' }), ['node:20', 'alpine:3', 'conveyor/base:1']);
  });

  test('resources, network, retry_policy, concurrency and artifact defaults land in the model', () => {
    const pipeline = parseValid(
      [
        'name: p',
        'retry_policy: {retry_count: 2, retry_on: [75]}',
        'artifacts: {when: always}',
        'concurrency: {max_parallel: 3}',
        'jobs:',
        '  a:',
        '    resources: {memory: 1g, cpus: 0.5}',
        '    network: none',
        '    artifacts:',
        '      report: reports/*.xml',
        '      dist: {paths: [dist/, "*.tgz"], when: on_success}',
        '    steps: [{name: s, script: x, working_directory: app}, {name: t, script: x, retry_count: 0}]',
        '',
      ].join('\n'),
    );
    const job = pipeline.jobs[0];
    assert.equal(pipeline.maxParallel, 3);
    assert.deepEqual(job?.resources, { memoryBytes: 1024 ** 3, cpus: 0.5 });
    assert.equal(job?.network, 'none');
    assert.deepEqual(job?.artifacts, [
      { name: 'report', paths: ['reports/*.xml'], when: 'always' },
      { name: 'dist', paths: ['dist/', '*.tgz'], when: 'on_success' },
    ]);
    assert.deepEqual(
      job?.steps.map((step) => [step.workingDirectory, step.retryCount, step.retryOn]),
      [
        ['/workspace/app', 2, [75]],
        ['/workspace', 0, [75]],
      ],
    );
  });

  test('environment values that YAML reads as numbers or booleans become strings', () => {
    const pipeline = parseValid(
      'name: p\nglobal_env: {DEBUG: true, N: 3, EMPTY: null}\njobs:\n  a: {steps: [{name: s, script: x}]}\n',
    );
    assert.deepEqual(pipeline.globalEnv, { DEBUG: 'true', N: '3', EMPTY: '' });
  });

  test('YAML 1.2: yes/no/on stay strings, so a boolean field written yes is an error with a hint', () => {
    const pipeline = parseValid(
      'name: p\nglobal_env: {ANSWER: yes, on: on}\njobs:\n  a: {steps: [{name: s, script: x}]}\n',
    );
    assert.deepEqual(pipeline.globalEnv, { ANSWER: 'yes', on: 'on' });
    const [error] = parseErrors(oneStep('script: x, continue_on_failure: yes'));
    assert.equal(error?.code, 'schema');
    assert.match(error?.message ?? '', /expected true or false, got the string 'yes'/);
    assert.match(error?.hint ?? '', /YAML 1\.2/);
  });
});

describe('validation reports every problem in one pass', () => {
  test('problems in different jobs and layers all come back, sorted by position', () => {
    const source = [
      'name: many',
      'jobs:',
      '  build:',
      '    stpes: []',
      '  test:',
      '    needs: [biuld]',
      '    steps:',
      '      - {name: t, script: x, image: "UPPER:1"}',
      '      - {name: t, script: "echo ${MISSING}"}',
      '  deploy:',
      '    timeout: 2h',
      '    if: sucess()',
      '    steps: [{name: d, script: x}]',
      '',
    ].join('\n');
    const errors = parseErrors(source);
    assert.deepEqual(
      errors.map((error) => [error.line, error.code]),
      [
        [4, 'unknown_key'],
        [6, 'unknown_dependency'],
        [8, 'invalid_image'],
        [9, 'duplicate_name'],
        [9, 'undefined_variable'],
        [11, 'invalid_duration'],
        [12, 'unknown_function'],
      ],
    );
  });

  test('an unknown key suggests the field meant, and hints at foreign CI syntax', () => {
    const errors = parseErrors('name: p\njobs:\n  a:\n    steps: [{name: s, run: make}]\n    dependson: [x]\n');
    const messages = errors.map((error) => `${error.code} ${error.message} | ${error.hint}`);
    assert.ok(
      messages.some((message) => /unknown_key .*unknown key 'run' \| Conveyor calls it script:/.test(message)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((message) => /unknown key 'dependson' \(did you mean 'depends_on'\?\)/.test(message)),
      messages.join('\n'),
    );
    assert.ok(
      !messages.some((message) => /missing required field 'script'/.test(message)),
      'run: is the script, not a second problem',
    );
    assert.equal(errors.length, 2);
  });

  test('missing name and jobs are both reported', () => {
    const errors = parseErrors('timeout: 60\n');
    assert.deepEqual(
      errors.map((error) => error.message),
      ["name: missing required field 'name'", "jobs: missing required field 'jobs'"].sort(),
    );
  });

  test('an empty jobs mapping needs at least one job', () => {
    const [error] = parseErrors('name: p\njobs: {}\n');
    assert.match(error?.message ?? '', /at least one job/);
  });

  test('job names must start with a letter and fit in 63 characters', () => {
    const long = `a${'b'.repeat(63)}`;
    const errors = parseErrors(
      `name: p\njobs:\n  _x: {steps: [{name: s, script: x}]}\n  ${long}: {steps: [{name: s, script: x}]}\n  ok-name_1: {steps: [{name: s, script: x}]}\n`,
    );
    assert.deepEqual(
      errors.map((error) => [error.code, error.line]),
      [
        ['invalid_name', 3],
        ['invalid_name', 4],
      ],
    );
  });

  test('secrets and unsafe paths in working_directory are reported, absolute artifact paths rejected', () => {
    const errors = parseErrors(
      'name: p\njobs:\n  a:\n    artifacts: {x: [ok/file, /abs, "a/../../b"]}\n    steps: [{name: s, script: x, working_directory: "/workspace/../etc"}]\n',
    );
    assert.deepEqual(
      errors.map((error) => [error.code, error.path]),
      [
        ['unsafe_path', 'jobs.a.artifacts.x[1]'],
        ['unsafe_path', 'jobs.a.artifacts.x[2]'],
        ['unsafe_path', 'jobs.a.steps[0].working_directory'],
      ],
    );
  });

  test('redundant transitive dependencies are warnings; the pipeline stays valid', () => {
    const result = parsePipeline(readFixture('errors/redundant_dependency.yml'));
    assert.equal(result.valid, true);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]?.message ?? '', /'build' is already a dependency of 'test'/);
  });

  test('a self-dependency is a cycle of one', () => {
    const [error] = parseErrors('name: p\njobs:\n  a: {needs: [a], steps: [{name: s, script: x}]}\n');
    assert.equal(error?.code, 'dependency_cycle');
    assert.match(error?.message ?? '', /job 'a' depends on itself/);
  });

  test('the shortest cycle is reported when a longer one shares its jobs', () => {
    const source =
      'name: p\njobs:\n  a: {needs: [b], steps: [{name: s, script: x}]}\n  b: {needs: [c, a], steps: [{name: s, script: x}]}\n  c: {needs: [d], steps: [{name: s, script: x}]}\n  d: {needs: [a], steps: [{name: s, script: x}]}\n';
    const errors = parseErrors(source);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /dependency cycle a → b → a /);
  });

  test('two separate cycles are both reported', () => {
    const source =
      'name: p\njobs:\n  a: {needs: [b], steps: [{name: s, script: x}]}\n  b: {needs: [a], steps: [{name: s, script: x}]}\n  c: {needs: [d], steps: [{name: s, script: x}]}\n  d: {needs: [c], steps: [{name: s, script: x}]}\n';
    assert.deepEqual(
      parseErrors(source).map((error) => error.path),
      ['jobs.b.needs[0]', 'jobs.d.needs[0]'],
    );
  });
});

describe('YAML handling', () => {
  test('anchors, aliases and << merge keys work, with x- keys holding the anchors', () => {
    const pipeline = parseValid(readFixture('anchors-and-merge.yml'));
    assert.deepEqual(
      pipeline.jobs.map((job) => job.steps.map((step) => [step.name, step.image, step.timeoutSeconds])),
      [[['lint', 'node:20', 900]], [['test', 'node:20', 90]]],
    );
  });

  test('an error inside merged content points into the file', () => {
    const errors = parseErrors(
      'name: p\nx-base: &base {image: "Bad Image"}\njobs:\n  a:\n    steps:\n      - <<: *base\n        name: s\n        script: x\n',
    );
    assert.equal(errors[0]?.code, 'invalid_image');
    assert.equal(errors[0]?.line, 2);
  });

  test('tags that would construct objects are refused', () => {
    const [error] = parseErrors('name: !!js/function "() => 1"\njobs: {a: {steps: [{name: s, script: x}]}}\n');
    assert.equal(error?.code, 'yaml_syntax');
    assert.match(error?.message ?? '', /tag .* is not allowed/);
  });

  test('an alias bomb is refused instead of expanded', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 9; level++)
      levels.push(
        `${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + level)}`)
          .join(', ')}]`,
      );
    const [error] = parseErrors(`${levels.join('\n')}\nname: p\njobs: {a: {steps: [{name: s, script: x}]}}\n`);
    assert.equal(error?.code, 'yaml_syntax');
  });

  test('an empty file and a list at the top level are explained', () => {
    assert.match(parseErrors('')[0]?.message ?? '', /empty/);
    assert.match(parseErrors('- a\n- b\n')[0]?.message ?? '', /not a list/);
  });
});
