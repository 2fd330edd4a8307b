/**
 * `conveyor run` while it follows a run, against the embedded stack: it says at once when no worker polls its task
 * queue and goes on when one does, and Ctrl-C stops following without stopping the run — asking first on a
 * terminal, printing the exact cancel command elsewhere.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conveyor, conveyorBin, lastJsonLine, startCommand } from '../helpers/cli';
import { leftoversOf, uniqueTaskQueue } from '../helpers/temporal';
import { startWorkerProcess } from '../helpers/worker-process';

let dir = '';

async function pipelineFile(name: string, lines: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** A one-step pipeline that prints `started`, then sleeps far longer than any test waits. */
function longPipeline(name: string): Promise<string> {
  return pipelineFile(`${name}.yml`, [
    `name: ${name}`,
    'jobs:',
    '  long:',
    '    steps:',
    '      - name: wait',
    '        image: conveyor/busybox:latest',
    '        script: ["echo started", "sleep 600"]',
  ]);
}

async function runStatus(runId: string): Promise<string> {
  const result = await conveyor(['status', runId, '--json']);
  assert.equal(result.code, 0, result.stderr);
  return lastJsonLine<{ status: string }>(result.stdout).status;
}

describe('following a run', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-follow-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says at once that no worker polls the task queue, and finishes the run once a worker starts', async () => {
    const taskQueue = uniqueTaskQueue('no-worker');
    const file = await pipelineFile('waiting.yml', [
      'name: waiting',
      'jobs:',
      '  greet:',
      '    steps:',
      '      - name: hello',
      '        image: conveyor/busybox:latest',
      '        script: echo hello from a late worker',
    ]);
    const run = startCommand(conveyorBin, ['run', file], { env: { CONVEYOR_TASK_QUEUE: taskQueue } });
    await run.waitFor(
      new RegExp(`conveyor: no worker is polling task queues '${taskQueue}' and '${taskQueue}-docker' on \\S+; `),
    );
    assert.match(run.stderr(), /start one with 'conveyor dev up'/);
    assert.doesNotMatch(run.stdout(), /\[greet\/hello\]/, 'nothing ran without a worker');
    const worker = await startWorkerProcess(taskQueue);
    try {
      const result = await run.exited;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /conveyor: a worker picked up the run\n/);
      assert.match(result.stdout, /\[greet\/hello\] hello from a late worker\n/);
      assert.match(result.stdout, /run run-waiting-\S+ succeeded/);
    } finally {
      await worker.stop();
    }
  });

  it('Ctrl-C away from a terminal stops following, prints the cancel command and leaves the run running', async () => {
    const file = await longPipeline('interrupted');
    const run = startCommand(conveyorBin, ['run', file]);
    const [, runId] = (await run.waitFor(/run (run-interrupted-\S+) started/)) as [string, string];
    await run.waitFor(/\[long\/wait\] started/);
    run.child.kill('SIGINT');
    const result = await run.exited;
    assert.equal(result.code, 130);
    assert.match(result.stderr, new RegExp(`stopped following run ${runId}; it goes on\\.`));
    assert.match(result.stderr, new RegExp(`\n  cancel it: +conveyor cancel ${runId}\n`));
    assert.equal(await runStatus(runId), 'running', 'the run went on');
    const cancel = await conveyor(['cancel', runId]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it('Ctrl-C on a terminal asks, and cancels the run on yes', async () => {
    const file = await longPipeline('asked');
    // `script` gives the command a real terminal; Ctrl-C typed into it becomes SIGINT for the command. `exec`
    // replaces script's shell: a shell that waits (dash, when SHELL is unset as in CI) dies of that SIGINT itself,
    // and script would report its 130 instead of the command's status.
    const run = startCommand('script', ['-qfec', `exec ${conveyorBin} run ${file}`, '/dev/null']);
    const [, runId] = (await run.waitFor(/run (run-asked-\S+) started/)) as [string, string];
    await run.waitFor(/\[long\/wait\] started/);
    run.child.stdin.write('\x03');
    await run.waitFor(new RegExp(`Cancel run ${runId}\\? \\[y/N\\]`));
    run.child.stdin.write('y\r');
    const result = await run.exited;
    run.child.stdin.end();
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, new RegExp(`cancelling run ${runId}`));
    assert.match(result.stdout, /⊘ long cancelled/);
    assert.equal(await runStatus(runId), 'cancelled');
    assert.deepEqual(await leftoversOf(runId), []);
  });
});
