/**
 * `conveyor run` as a user meets it, against the embedded stack's worker: the example succeeds, a failing step
 * fails the run with its exit code, and bad input ends in one line with no stack trace.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conveyor, lastJsonLine, runCommand } from '../helpers/cli';
import { config, leftoversOf } from '../helpers/temporal';

let dir = '';

async function pipelineFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

function assertOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe('conveyor run', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the hello example to success, streaming each step’s output', async () => {
    const result = await conveyor(['run', 'examples/hello.yml']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\[greet\/say-hello\] Hello from Conveyor, run run-hello-/);
    assert.match(result.stdout, /\[check\/node-version\] Node\.js v\d+\.\d+\.\d+ says the pipeline worked/);
    assert.match(result.stdout, /run run-hello-\S+ succeeded/);
  });

  it('npm start -- --once runs the example repository at its commit on the stack and exits 0 with the UI link', async () => {
    const result = await runCommand('npm', ['start', '--', '--once'], { timeoutMs: 300_000 });
    assert.equal(result.code, 0, result.stderr);
    const repository = path.join(config.dataDir, 'example-repo');
    const head = (await runCommand('git', ['-C', repository, 'rev-parse', 'HEAD'])).stdout.trim();
    assert.match(head, /^[0-9a-f]{40}$/);
    // The sources come from the commit (no heredocs): the pipeline reads the project's own files.
    assert.match(
      result.stdout,
      new RegExp(`\\[lint/syntax\\] building \\S+ at ${head.slice(0, 12)} \\(manual on main\\)`),
    );
    assert.match(result.stdout, /\[test \(suite=unit\)\/run-suite\] unit: 3 checks passed/);
    assert.match(result.stdout, new RegExp(`\\[build/bundle\\] packaged calculator-1\\.0\\.0\\.tgz from ${head}`));
    const ui = `http://localhost:${config.temporal.uiPort}/namespaces/default/workflows/run-calculator-`;
    assert.ok(new RegExp(`run run-calculator-\\S+ succeeded \\(${ui}`).test(result.stdout), result.stdout);
    assert.match(result.stdout, /\[verify-package\/inspect\] received calculator-1\.0\.0\.tgz from build/);
    assert.match(result.stdout, /Next:/);
  });

  it('fails the run with the failing job, step and exit code, and leaves no container behind', async () => {
    const file = await pipelineFile(
      'failing.yml',
      [
        'name: failing',
        'jobs:',
        '  build:',
        '    steps:',
        '      - name: compile',
        '        image: conveyor/busybox:latest',
        '        script: exit 4',
        '',
      ].join('\n'),
    );
    const result = await conveyor(['run', file, '--json']);
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /failed: job 'build', step 'compile' exited with code 4/);
    const summary = lastJsonLine<{ runId: string; status: string; jobs: Record<string, { exitCode: number }> }>(
      result.stdout,
    );
    assert.equal(summary.status, 'failed');
    assert.equal(summary.jobs.build?.exitCode, 4);
    assert.deepEqual(await leftoversOf(summary.runId), []);
  });

  it('reports a missing file in one line with exit code 2', async () => {
    const result = await conveyor(['run', path.join(dir, 'nope.yml')]);
    assert.equal(result.code, 2);
    assertOneLineError(result.stderr, /^conveyor: cannot read pipeline file '.*nope\.yml': no such file$/);
  });

  it('reports invalid YAML in one line with its location', async () => {
    const file = await pipelineFile('broken.yml', 'name: broken\njobs:\n  a: [unclosed\n');
    const result = await conveyor(['run', file]);
    assert.equal(result.code, 1);
    assertOneLineError(result.stderr, /broken\.yml:\d+:\d+ +yaml_syntax /);
  });

  it('reports an image that is not on the Docker host in one line, then where its investigation is', async () => {
    const file = await pipelineFile(
      'missing-image.yml',
      [
        'name: missing-image',
        'jobs:',
        '  only:',
        '    steps:',
        '      - name: run',
        '        image: conveyor/never-built:1',
        // Without a pull the outcome does not depend on whether this host reaches a registry (docs/runs.md).
        '        pull_policy: never',
        '        script: "true"',
        '',
      ].join('\n'),
    );
    const result = await conveyor(['run', file]);
    assert.equal(result.code, 1);
    // A failed run is investigated automatically (docs/investigations.md): the CLI's second line says where.
    const [error, investigation, ...rest] = result.stderr.trimEnd().split('\n');
    assert.deepEqual(rest, [], `expected two lines, got:\n${result.stderr}`);
    assertOneLineError(
      `${error}\n`,
      /image 'conveyor\/never-built:1' is not on this Docker host and the step's pull_policy is never/,
    );
    assert.match(investigation ?? '', /^conveyor: investigating: conveyor incidents show incident-[0-9a-f]+-\d+ -f$/);
  });
});
