import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fixtureDirectory } from './fixtures';

// The real command line, as a user runs it.
const conveyorBin = join(__dirname, '../../../bin/conveyor');

function conveyor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(conveyorBin, args, { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const fixture = (name: string) => join(fixtureDirectory, name);

describe('conveyor validate', () => {
  test('a valid file exits 0 and says so', () => {
    const result = conveyor('validate', fixture('fx7-integration-test-pipeline.yml'));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /valid \(3 jobs\)/);
  });

  test('an invalid file exits 1 with FILE:LINE:COL  CODE  message, then the hint', () => {
    const file = fixture('errors/unknown_dependency.yml');
    const result = conveyor('validate', file);
    assert.equal(result.status, 1);
    const lines = result.stdout.split('\n');
    assert.equal(
      lines[0],
      `${file}:9:18  unknown_dependency  jobs.test.depends_on[0]: unknown job 'biuld' (did you mean 'build'?)`,
    );
    assert.match(
      lines[1] ?? '',
      /^ {4}hint: depend on jobs defined under jobs: build, test .*docs\/pipeline-syntax\.md#unknown-dependency/,
    );
    assert.doesNotMatch(result.stdout + result.stderr, /\bat .*\.ts:\d+/, 'no stack trace');
  });

  test('--json prints exactly valid, errors and warnings with code, message, line, column, path, hint', () => {
    const result = conveyor('validate', fixture('errors/unknown_key.yml'), '--json');
    assert.equal(result.status, 1);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report), ['valid', 'errors', 'warnings']);
    assert.equal(report.valid, false);
    assert.deepEqual(report.errors, [
      {
        code: 'unknown_key',
        message: "jobs.build.stpes: unknown key 'stpes' (did you mean 'steps'?)",
        line: 5,
        column: 5,
        path: 'jobs.build.stpes',
        hint: "rename it to 'steps'",
      },
    ]);
    assert.deepEqual(report.warnings, []);
  });

  test('--json of a valid file with a warning', () => {
    const result = conveyor('validate', '--json', fixture('errors/redundant_dependency.yml'));
    assert.equal(result.status, 0);
    const report = JSON.parse(result.stdout) as {
      valid: boolean;
      errors: unknown[];
      warnings: Array<{ code: string }>;
    };
    assert.equal(report.valid, true);
    assert.deepEqual(report.errors, []);
    assert.deepEqual(
      report.warnings.map((warning) => warning.code),
      ['redundant_dependency'],
    );
  });

  test('--var supplies runtime variables (repeatable)', () => {
    const directory = mkdtempSync(join(tmpdir(), 'conveyor-validate-'));
    const file = join(directory, 'pipeline.yml');
    writeFileSync(file, 'name: p\njobs:\n  a: {steps: [{name: s, script: "echo ${A} ${B}"}]}\n');
    assert.equal(conveyor('validate', file).status, 1);
    assert.equal(conveyor('validate', file, '--var', 'A=1', '--var', 'B=two=2').status, 0);
  });

  test('an unreadable file exits 2 with one line and no stack trace', () => {
    const result = conveyor('validate', fixture('does-not-exist.yml'));
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^conveyor: cannot read pipeline file '.*does-not-exist\.yml': no such file\n$/);
    const json = conveyor('validate', fixture('does-not-exist.yml'), '--json');
    assert.equal(json.status, 2);
    assert.equal((JSON.parse(json.stdout) as { errors: Array<{ code: string }> }).errors[0]?.code, 'unreadable_file');
  });

  test('a directory is unreadable too, and a malformed --var is a usage error (exit 2)', () => {
    assert.equal(conveyor('validate', fixtureDirectory).status, 2);
    const result = conveyor('validate', fixture('fx2-test-pipeline.yml'), '--var', 'novalue');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--var 'novalue' must look like NAME=value/);
  });
});

describe('conveyor plan', () => {
  test('--json prints jobs, levels and criticalPath', () => {
    const result = conveyor('plan', fixture('matrix.yml'), '--json');
    assert.equal(result.status, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as { jobs: string[]; levels: string[][]; criticalPath: string[] };
    assert.deepEqual(Object.keys(plan), ['jobs', 'levels', 'criticalPath']);
    assert.equal(plan.jobs.length, 5);
    assert.deepEqual(
      plan.levels.map((level) => level.length),
      [4, 1],
    );
    assert.deepEqual(plan.criticalPath, ['test (node=18, os=linux, experimental=true)', 'report']);
  });

  test('the human form lists levels, the critical path and the job count after expansion', () => {
    const result = conveyor('plan', fixture('fx7-integration-test-pipeline.yml'));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        'pipeline integration-test-pipeline: 3 jobs in 3 levels, up to 1 at once',
        '',
        'level 1: build',
        'level 2: test',
        'level 3: deploy',
        '',
        'critical path (3 jobs): build → test → deploy',
        '',
      ].join('\n'),
    );
  });

  test('an invalid pipeline exits 1 and lists its errors', () => {
    const result = conveyor('plan', fixture('fx3-circular-pipeline.yml'));
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /dependency_cycle {2}jobs\.job_b\.depends_on\[0\]: dependency cycle job_a → job_b → job_a/,
    );
  });
});
