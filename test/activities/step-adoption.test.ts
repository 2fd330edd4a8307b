/**
 * What a retried `runStep` attempt finds and does, against the real Docker engine: an engine error while the script
 * runs leaves the container for the next attempt to adopt (the script runs once, each line is stored once), an
 * adopted container keeps the deadline it started with, and an attempt whose container already finished returns
 * the recorded outcome instead of running the script again.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { settleStepRemovals } from '../../activities/docker-step-cleanup';
import { createDockerResourceActivities } from '../../activities/docker-resources';
import { createDockerStepActivities, type RunStepInput, type RunStepResult } from '../../activities/docker-step';
import { stepContainerName } from '../../activities/names';
import { cuttableDocker, type CuttableDocker } from '../helpers/docker-proxy';
import { stepInputFor } from '../helpers/step-input';
import { docker, leftoversOf, logs } from '../helpers/temporal';

const runId = `test-adopt-${randomUUID().slice(0, 8)}`;
let proxy: CuttableDocker;

function stepInput(overrides: Partial<RunStepInput>): RunStepInput {
  return stepInputFor(runId, overrides);
}

/** Runs one activity attempt (`attempt` as Temporal numbers them) through the cuttable engine connection. */
function runAttempt(input: RunStepInput, attempt: number): Promise<RunStepResult> {
  const { runStep } = createDockerStepActivities({ docker: proxy.docker, logs, heartbeatMs: 200 });
  return new MockActivityEnvironment({ attempt }).run(runStep, input) as Promise<RunStepResult>;
}

/** Waits until the step's container has printed `text` (read from Docker directly). */
async function waitForOutput(input: RunStepInput, text: string): Promise<void> {
  const container = docker.getContainer(stepContainerName(input.runId, input.job, input.step, input.attempt));
  for (let tries = 0; tries < 600; tries += 1) {
    const output = await container.logs({ stdout: true, stderr: true }).catch(() => Buffer.alloc(0));
    if (output.toString('utf8').includes(text)) return;
    await delay(100);
  }
  throw new Error(`the step never printed '${text}'`);
}

async function storedLines(step: string): Promise<string[]> {
  const lines: string[] = [];
  let offsets: Map<string, number> | undefined;
  for (;;) {
    const read = await logs.read(runId, offsets);
    lines.push(...read.records.filter((record) => record.step === step).map((record) => record.line));
    offsets = read.offsets;
    if (!read.more) return lines;
  }
}

describe('runStep retried after a fault (real Docker engine)', () => {
  before(async () => {
    proxy = await cuttableDocker();
  });
  beforeEach(() => proxy.forget());
  after(async () => {
    await settleStepRemovals();
    const { cleanupRun } = createDockerResourceActivities({ docker });
    await new MockActivityEnvironment().run(cleanupRun, { runId });
    await proxy.close();
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it('an engine error mid-step leaves the container running; the next attempt adopts it and stores each line once', async () => {
    const input = stepInput({
      script: ['echo begin', 'for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.5; done', 'echo end'],
    });
    const first = runAttempt(input, 1);
    await waitForOutput(input, 'line 2');
    await proxy.waitForRequest(/\/wait/);
    proxy.cut();
    await assert.rejects(first, /Docker engine failed/);
    const name = stepContainerName(input.runId, input.job, input.step, input.attempt);
    assert.equal((await docker.getContainer(name).inspect()).State.Running, true, 'the container was left running');

    const second = await runAttempt(input, 2);
    assert.equal(second.outcome, 'success');
    assert.equal(second.adopted, true);
    assert.deepEqual(await storedLines(input.step), [
      'begin',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'line 5',
      'line 6',
      'end',
    ]);
  });

  it('an adopted container keeps the deadline it started with, not one counted from the adoption', async () => {
    const input = stepInput({ script: ['echo sleeping', 'sleep 30'], timeoutSeconds: 6, graceSeconds: 2 });
    const first = runAttempt(input, 1);
    await waitForOutput(input, 'sleeping');
    await proxy.waitForRequest(/\/wait/);
    proxy.cut();
    await assert.rejects(first, /Docker engine failed/);
    // The next attempt comes a while later, as after a heartbeat timeout.
    await delay(3000);
    const adoptedAt = Date.now();
    const second = await runAttempt(input, 2);
    assert.equal(second.outcome, 'timed_out');
    assert.equal(second.exitCode, 143, 'SIGTERM at the deadline');
    assert.ok(Date.parse(second.startedAt) < adoptedAt, 'the deadline counts from when the container started');
    assert.ok(
      Date.parse(second.finishedAt) < adoptedAt + 6000,
      'the container was stopped at its original deadline, before a whole timeout had passed since the adoption',
    );
  });

  it('an attempt whose container already finished returns the recorded outcome and does not run the script again', async () => {
    const input = stepInput({ script: ['echo "token $(od -An -N8 -tx1 /dev/urandom | tr -d \' \\n\')"', 'exit 3'] });
    const first = await runAttempt(input, 1);
    assert.equal(first.outcome, 'failed');
    await settleStepRemovals();
    // The server timed the first attempt out (an outage) after it had finished: Temporal retries the activity.
    const second = await runAttempt(input, 2);
    assert.deepEqual({ ...second, adopted: false }, first);
    const tokens = await storedLines(input.step);
    assert.equal(tokens.length, 1, `the script ran once: ${tokens.join(', ')}`);
    assert.deepEqual(second.logTail, tokens);
  });
});
