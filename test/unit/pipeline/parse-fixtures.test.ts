import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diagnosticCodes, parsePipeline } from '../../../pipeline';
import { errorFixtures, parseErrors, parseValid, readFixture } from './fixtures';

describe('the design documents’ fixtures', () => {
  test('test-pipeline (FX-2, four-space indentation) parses into one job with its step and defaults', () => {
    const pipeline = parseValid(readFixture('fx2-test-pipeline.yml'));
    assert.equal(pipeline.name, 'test-pipeline');
    assert.equal(pipeline.timeoutSeconds, 7200);
    assert.equal(pipeline.jobs.length, 1);
    const [job] = pipeline.jobs;
    assert.equal(job?.name, 'build');
    assert.equal(job?.timeoutSeconds, 3600);
    assert.equal(job?.retryCount, 0);
    assert.deepEqual(job?.steps, [
      {
        name: 'compile',
        script: ['make', 'build'],
        image: 'ubuntu:20.04',
        environment: {},
        workingDirectory: '/workspace',
        timeoutSeconds: 1800,
        retryCount: 0,
        retryOn: [],
        continueOnFailure: false,
      },
    ]);
  });

  test('circular-pipeline (FX-3) is rejected with the cycle job_a → job_b → job_a and the edge to remove', () => {
    const errors = parseErrors(readFixture('fx3-circular-pipeline.yml'));
    assert.equal(errors.length, 1);
    const [error] = errors;
    assert.equal(error?.code, 'dependency_cycle');
    assert.match(error?.message ?? '', /job_a → job_b → job_a/);
    assert.equal(error?.path, 'jobs.job_b.depends_on[0]');
    assert.deepEqual([error?.line, error?.column], [8, 18]);
    assert.match(error?.hint ?? '', /remove 'job_a' from the dependencies of 'job_b'/);
  });

  test('circular-pipeline’s flow-style script [echo "a"] is the single command echo "a"', () => {
    const source = readFixture('fx3-circular-pipeline.yml').replace('depends_on: [job_b]', 'depends_on: []');
    const pipeline = parseValid(source);
    assert.deepEqual(pipeline.jobs[0]?.steps[0]?.script, ['echo "a"']);
  });

  test('variable-pipeline (FX-4) resolves WORKSPACE from the system and OUTPUT_DIR from the job env, nested', () => {
    const pipeline = parseValid(readFixture('fx4-variable-pipeline.yml'), { system: { WORKSPACE: '/home/ci/ws' } });
    const [job] = pipeline.jobs;
    assert.deepEqual(job?.environment, { OUTPUT_DIR: '/home/ci/ws/build' });
    assert.deepEqual(job?.steps[0]?.script, ['make', 'OUTPUT=/home/ci/ws/build']);
  });

  test('variable-pipeline uses the built-in WORKSPACE (/workspace) when the system supplies none', () => {
    const pipeline = parseValid(readFixture('fx4-variable-pipeline.yml'));
    assert.deepEqual(pipeline.jobs[0]?.steps[0]?.script, ['make', 'OUTPUT=/workspace/build']);
  });

  test('integration-test-pipeline (FX-7) chains build → test → deploy and declares app.jar as an artifact', () => {
    const pipeline = parseValid(readFixture('fx7-integration-test-pipeline.yml'));
    assert.deepEqual(
      pipeline.jobs.map((job) => [job.name, job.dependsOn]),
      [
        ['build', []],
        ['test', ['build']],
        ['deploy', ['test']],
      ],
    );
    assert.deepEqual(pipeline.jobs[0]?.artifacts, [{ name: 'application', paths: ['app.jar'], when: 'on_success' }]);
  });

  test('the conftest pipeline (FX-8) keeps every explicit step field', () => {
    const pipeline = parseValid(readFixture('fx8-sample-pipeline-definition.yml'));
    assert.equal(pipeline.timeoutSeconds, 3600);
    assert.deepEqual(pipeline.globalEnv, { PROJECT: 'test' });
    const job = pipeline.jobs[0];
    assert.deepEqual(job?.environment, { STAGE: 'build' });
    assert.deepEqual(job?.artifacts, [{ name: 'binary', paths: ['build/app'], when: 'on_success' }]);
    assert.deepEqual(job?.steps[0], {
      name: 'compile',
      script: ['make', 'build'],
      image: 'ubuntu:20.04',
      environment: { BUILD_TYPE: 'release' },
      workingDirectory: '/workspace',
      timeoutSeconds: 300,
      retryCount: 2,
      retryOn: [],
      continueOnFailure: false,
    });
  });

  test('the flow-style one-liner (FX-5) is invalid YAML as written and valid once wrapped in braces', () => {
    const line = 'name: test, jobs: {build: {steps: [{name: compile, script: [make]}]}}';
    const errors = parseErrors(line);
    assert.equal(errors[0]?.code, 'yaml_syntax');
    const pipeline = parseValid(`{${line}}`);
    assert.deepEqual(pipeline.jobs[0]?.steps[0]?.script, ['make']);
  });
});

describe('every error code has a failing fixture', () => {
  const fixtures = errorFixtures();

  for (const fixture of fixtures) {
    test(`${fixture.file}: reports ${fixture.code} at ${fixture.line}:${fixture.column} with a hint`, () => {
      const result = parsePipeline(fixture.source);
      const diagnostics = fixture.warning ? result.warnings : result.valid ? [] : result.errors;
      if (!fixture.warning) assert.equal(result.valid, false, 'the fixture must be invalid');
      const found = diagnostics.find((diagnostic) => diagnostic.code === fixture.code);
      assert.ok(found, `no ${fixture.code} among ${JSON.stringify(diagnostics)}`);
      assert.deepEqual([found.line, found.column], [fixture.line, fixture.column]);
      assert.ok((found.hint ?? '').length > 10, 'every diagnostic carries a hint');
    });
  }

  test('the fixtures cover every code a pipeline file can produce', () => {
    const covered = new Set(fixtures.map((fixture) => fixture.code));
    // unreadable_file comes from the CLI (see cli.test.ts); internal_error would be a Conveyor bug.
    const expected = diagnosticCodes.filter((code) => code !== 'unreadable_file' && code !== 'internal_error');
    assert.deepEqual(
      expected.filter((code) => !covered.has(code)),
      [],
    );
  });
});
