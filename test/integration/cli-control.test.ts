/**
 * The commands that watch and steer runs — status, logs, list, cancel, rerun — run as a user would against the
 * embedded stack's worker.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { delay } from '../../client/dev/processes';
import { conveyor, lastJsonLine } from '../helpers/cli';
import { config, docker, leftoversOf } from '../helpers/temporal';

let dir = '';

interface Summary {
  runId: string;
  status: string;
  jobs: Record<string, { status: string; reason: string | null; steps: { name: string; attempts: number }[] }>;
}

/** Gives the stack's worker a secret (its data dir's secrets.json, re-read on each lookup); returns the undo. */
async function addWorkerSecret(name: string, value: string): Promise<() => Promise<void>> {
  const file = path.join(config.dataDir, 'secrets.json');
  const before = await readFile(file, 'utf8').catch(() => undefined);
  const secrets = before ? (JSON.parse(before) as Record<string, string>) : {};
  await writeFile(file, JSON.stringify({ ...secrets, [name]: value }));
  return async () => {
    const now = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    delete now[name];
    if (before === undefined && Object.keys(now).length === 0) await rm(file, { force: true });
    else await writeFile(file, JSON.stringify(now));
  };
}

async function pipelineFile(name: string, lines: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

describe('run control commands', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-control-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('status, logs and list describe a finished run', async () => {
    const file = await pipelineFile('described.yml', [
      'name: described',
      'jobs:',
      '  build:',
      '    steps:',
      '      - name: compile',
      '        image: conveyor/busybox:latest',
      '        script: ["echo compiling", "echo warning >&2"]',
      '      - name: link',
      '        image: conveyor/busybox:latest',
      '        script: echo linking',
    ]);
    const run = await conveyor(['run', file, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const { runId } = lastJsonLine<Summary>(run.stdout);

    const status = await conveyor(['status', runId]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^${runId}  described  success`, 'm'));
    assert.match(status.stdout, /✓ build success/);
    assert.match(status.stdout, /^ {4}compile: success exit 0$/m);

    const all = await conveyor(['logs', runId]);
    assert.deepEqual(all.stdout.trim().split('\n').sort(), [
      '[build/compile] compiling',
      '[build/compile] warning',
      '[build/link] linking',
    ]);
    const oneStep = await conveyor(['logs', runId, 'build/compile', '--stream', 'stderr']);
    assert.equal(oneStep.stdout, 'warning\n');
    // A wrong selector or stream is an error that lists what is valid, not an empty output.
    const noJob = await conveyor(['logs', runId, 'biuld']);
    assert.equal(noJob.code, 2);
    assert.equal(
      noJob.stderr,
      `conveyor: run '${runId}' has no job 'biuld' (did you mean 'build'?); its jobs are: build\n`,
    );
    const noStep = await conveyor(['logs', runId, 'build/lnk']);
    assert.equal(noStep.code, 2);
    assert.equal(
      noStep.stderr,
      `conveyor: job 'build' of run '${runId}' has no step 'lnk' (did you mean 'link'?); its steps are: compile, link\n`,
    );
    const badStream = await conveyor(['logs', runId, '--stream', 'stdlog']);
    assert.equal(badStream.code, 2);
    assert.match(badStream.stderr, /argument 'stdlog' is invalid\. Allowed choices are stdout, stderr\./);

    const listed = await conveyor(['list', '--pipeline', 'described', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    // Visibility is eventually consistent: the run shows up within a moment.
    let rows = JSON.parse(listed.stdout) as { runId: string; status: string }[];
    for (let i = 0; i < 20 && !rows.some((row) => row.runId === runId); i += 1) {
      await delay(250);
      rows = JSON.parse((await conveyor(['list', '--pipeline', 'described', '--json'])).stdout) as typeof rows;
    }
    assert.equal(rows.find((row) => row.runId === runId)?.status, 'success');
  });

  it('status names an unknown run in one line', async () => {
    const result = await conveyor(['status', 'run-does-not-exist-123']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "conveyor: no run 'run-does-not-exist-123' (list runs with 'conveyor list')\n");
  });

  it('cancel stops a running run: containers gone, jobs cancelled', async () => {
    const file = await pipelineFile('cancelled.yml', [
      'name: cancelled',
      'jobs:',
      '  long:',
      '    steps:',
      '      - name: wait',
      '        image: conveyor/busybox:latest',
      '        script: sleep 600',
    ]);
    const started = await conveyor(['run', file, '--detach', '--json']);
    assert.equal(started.code, 0, started.stderr);
    const { runId } = lastJsonLine<Summary>(started.stdout);
    for (let i = 0; i < 100; i += 1) {
      const running = await docker.listContainers({
        filters: { label: [`conveyor.run=${runId}`], status: ['running'] },
      });
      if (running.length > 0) break;
      await delay(100);
    }
    const cancel = await conveyor(['cancel', runId]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /cancelled/);
    assert.deepEqual(await leftoversOf(runId), []);
    const status = lastJsonLine<Summary>((await conveyor(['status', runId, '--json'])).stdout);
    assert.equal(status.status, 'cancelled');
    assert.equal(status.jobs.long?.status, 'cancelled');
  });

  it('rerun --failed and rerun run the same definition and variables: exit codes and output show it', async () => {
    // The fix a user makes between the runs: the worker lacked a secret the deploy step needs, and gets it.
    const secret = `RERUN_TOKEN_${Date.now()}`;
    const file = await pipelineFile('rerun.yml', [
      'name: rerun',
      'jobs:',
      '  prepare:',
      '    steps:',
      '      - name: once',
      '        image: conveyor/busybox:latest',
      '        script: echo "prepared ${TARGET}"',
      '  deploy:',
      '    depends_on: [prepare]',
      '    steps:',
      '      - name: push',
      '        image: conveyor/busybox:latest',
      '        script: echo "deploying ${TARGET} with a $${#TOKEN}-character token"',
      '        environment:',
      `          TOKEN: \${secrets.${secret}}`,
      '  after:',
      '    depends_on: [deploy]',
      '    steps:',
      '      - name: done',
      '        image: conveyor/busybox:latest',
      '        script: echo "after ${TARGET}"',
    ]);
    const first = await conveyor(['run', file, '--var', 'TARGET=prod', '--json']);
    assert.equal(first.code, 1, first.stderr);
    const failed = lastJsonLine<Summary>(first.stdout);
    assert.equal(failed.jobs.deploy?.status, 'failed');
    assert.equal(failed.jobs.deploy?.reason, 'configuration');
    assert.equal(failed.jobs.after?.status, 'skipped');

    const restoreSecrets = await addWorkerSecret(secret, 'abcdef');
    try {
      const rerun = await conveyor(['rerun', failed.runId, '--failed', '--json']);
      assert.equal(rerun.code, 0, rerun.stderr);
      const second = lastJsonLine<Summary>(rerun.stdout);
      assert.notEqual(second.runId, failed.runId);
      assert.equal(second.status, 'success');
      // Only the failed and skipped jobs ran, with TARGET from the first run's --var (lost, it would print '').
      const rerunLogs = (await conveyor(['logs', second.runId])).stdout.trim().split('\n').sort();
      assert.deepEqual(rerunLogs, ['[after/done] after prod', '[deploy/push] deploying prod with a 6-character token']);

      const again = await conveyor(['rerun', failed.runId, '--json']);
      assert.equal(again.code, 0, again.stderr);
      const third = lastJsonLine<Summary>(again.stdout);
      assert.equal(third.status, 'success');
      // Without --failed every job ran again, the successful one too.
      const allLogs = (await conveyor(['logs', third.runId])).stdout.trim().split('\n').sort();
      assert.deepEqual(allLogs, [
        '[after/done] after prod',
        '[deploy/push] deploying prod with a 6-character token',
        '[prepare/once] prepared prod',
      ]);
    } finally {
      await restoreSecrets();
    }
  });

  it('rerun refuses a run with nothing to re-run', async () => {
    const file = await pipelineFile('green.yml', [
      'name: green',
      'jobs:',
      '  ok:',
      '    steps:',
      '      - name: s',
      '        image: conveyor/busybox:latest',
      '        script: "true"',
    ]);
    const run = lastJsonLine<Summary>((await conveyor(['run', file, '--json'])).stdout);
    const rerun = await conveyor(['rerun', run.runId, '--failed']);
    assert.equal(rerun.code, 1);
    assert.match(rerun.stderr, /has no failed or skipped jobs to re-run/);
  });
});
