/**
 * The `runStep` activity against the real Docker engine (through Temporal's MockActivityEnvironment for the
 * activity context): output, exit codes, security defaults, missing images, timeouts and cleanup.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import Docker from 'dockerode';
import { ApplicationFailure } from '@temporalio/common';
import { createDockerStepActivities, type RunStepInput, type RunStepResult } from '../../activities/docker-step';
import { createDockerResourceActivities } from '../../activities/docker-resources';
import { settleStepRemovals } from '../../activities/docker-step-cleanup';
import { stepInputFor } from '../helpers/step-input';
import { docker, leftoversOf, logs } from '../helpers/temporal';

const runId = `test-step-${randomUUID().slice(0, 8)}`;
const { runStep } = createDockerStepActivities({ docker, logs, heartbeatMs: 200 });
const { cleanupRun, ensureRunNetwork } = createDockerResourceActivities({ docker });

function stepInput(overrides: Partial<RunStepInput>): RunStepInput {
  return stepInputFor(runId, overrides);
}

/** Runs the activity once in a fresh activity context. */
function runStepNow(input: RunStepInput): Promise<RunStepResult> {
  return new MockActivityEnvironment().run(runStep, input) as Promise<RunStepResult>;
}

async function logLines(step: string): Promise<{ stream: string; line: string }[]> {
  const { records } = await logs.read(runId);
  return records.filter((record) => record.step === step).map(({ stream, line }) => ({ stream, line }));
}

describe('runStep (real Docker engine)', () => {
  after(async () => {
    await new MockActivityEnvironment().run(cleanupRun, { runId });
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it('runs the script and keeps stdout and stderr apart in the log store', async () => {
    const input = stepInput({
      script: ['echo out-line', 'echo err-line >&2', 'echo "value=$GREETING"'],
      environment: { GREETING: 'hi' },
    });
    const result = await runStepNow(input);
    assert.equal(result.outcome, 'success');
    assert.equal(result.exitCode, 0);
    // Docker reads the two streams through separate pipes, so only the order within each stream is defined.
    const lines = await logLines(input.step);
    assert.deepEqual(
      lines.filter((record) => record.stream === 'stdout').map((record) => record.line),
      ['out-line', 'value=hi'],
    );
    assert.deepEqual(
      lines.filter((record) => record.stream === 'stderr').map((record) => record.line),
      ['err-line'],
    );
    assert.deepEqual([...result.logTail].sort(), ['err-line', 'out-line', 'value=hi']);
  });

  it('runs as a non-root user with no capabilities and writes to the shared workspace', async () => {
    const write = stepInput({ script: ['id -u', 'grep CapEff /proc/self/status', 'echo kept > /workspace/file'] });
    const result = await runStepNow(write);
    assert.equal(result.outcome, 'success', result.logTail.join('\n'));
    assert.deepEqual(result.logTail, ['1000', 'CapEff:\t0000000000000000']);
    const read = stepInput({ script: ['cat /workspace/file'] });
    assert.deepEqual((await runStepNow(read)).logTail, ['kept']);
  });

  it('removes the workspace after a last step that succeeds, and keeps it after one that fails', async () => {
    const job = `job-${randomUUID().slice(0, 6)}`;
    const volumeExists = async () =>
      (await docker.listVolumes({ filters: { label: [`conveyor.run=${runId}`, `conveyor.job=${job}`] } })).Volumes
        .length > 0;
    const failing = await runStepNow(stepInput({ job, script: ['exit 1'], removeWorkspaceOnSuccess: true }));
    assert.equal(failing.outcome, 'failed');
    assert.equal(await volumeExists(), true, 'a retry may still need the workspace');
    const passing = await runStepNow(stepInput({ job, script: ['true'], removeWorkspaceOnSuccess: true }));
    assert.equal(passing.outcome, 'success');
    // The container and the workspace are removed after the result, off the critical path.
    await settleStepRemovals();
    assert.equal(await volumeExists(), false);
  });

  it("runs a step on the run's internal network, which cannot reach containers on other networks", async () => {
    const networkName = (await new MockActivityEnvironment().run(ensureRunNetwork, { runId })) as string;
    assert.equal((await docker.getNetwork(networkName).inspect()).Internal, true, 'Docker blocks routes out of it');
    // A TCP service on Docker's default bridge, as another tenant's would be; removed with the run.
    const server = await docker.createContainer({
      Image: 'conveyor/busybox:latest',
      Cmd: ['sh', '-c', 'while true; do echo pong | nc -l -p 8080; done'],
      Labels: { 'conveyor.run': runId },
      HostConfig: { NetworkMode: 'bridge' },
    });
    await server.start();
    const address = (await server.inspect()).NetworkSettings.Networks.bridge?.IPAddress;
    const probe = `for i in 1 2 3; do nc -w 2 ${address} 8080 </dev/null 2>/dev/null | grep -q pong && { echo reachable; exit 0; }; sleep 0.3; done; echo unreachable`;
    // Control: from the default bridge the server answers, so "unreachable" below means isolation.
    const control = await docker.createContainer({
      Image: 'conveyor/busybox:latest',
      Cmd: ['sh', '-c', probe],
      Labels: { 'conveyor.run': runId },
      HostConfig: { NetworkMode: 'bridge' },
    });
    await control.start();
    await control.wait();
    const controlOutput = (await control.logs({ stdout: true, stderr: true })).toString();
    assert.match(controlOutput, /reachable/);
    assert.doesNotMatch(controlOutput, /unreachable/);
    const isolated = await runStepNow(stepInput({ networkMode: networkName, script: [probe] }));
    assert.deepEqual(isolated.logTail, ['unreachable']);
  });

  it('reports a failing script as a result with its exit code, not as an exception', async () => {
    const result = await runStepNow(stepInput({ script: ['echo about to fail', 'exit 3'] }));
    assert.equal(result.outcome, 'failed');
    assert.equal(result.exitCode, 3);
    assert.equal(result.reason, 'exit_code');
  });

  it('classifies a missing command as command_not_found (exit 127)', async () => {
    const result = await runStepNow(stepInput({ script: ['no-such-command-here'] }));
    assert.equal(result.exitCode, 127);
    assert.equal(result.reason, 'command_not_found');
  });

  it('classifies a script that is not executable (126) and one killed by a signal', async () => {
    const notExecutable = await runStepNow(stepInput({ script: ['/etc/passwd'] }));
    assert.deepEqual([notExecutable.exitCode, notExecutable.reason], [126, 'not_executable']);
    const killed = await runStepNow(stepInput({ script: ['kill -TERM $$', 'sleep 5'] }));
    assert.deepEqual([killed.exitCode, killed.reason], [143, 'signal']);
  });

  it('reports a step that exceeds its memory limit as oom_killed', async () => {
    const result = await runStepNow(
      stepInput({
        image: 'conveyor/node:18',
        resources: { memoryBytes: 64 * 1024 * 1024, cpus: 1 },
        script: ['node -e "const kept = []; for (;;) kept.push(Buffer.alloc(1 << 20, 1))"'],
      }),
    );
    assert.equal(result.outcome, 'failed');
    assert.equal(result.oomKilled, true);
    assert.equal(result.reason, 'oom_killed');
    assert.equal(result.exitCode, 137);
  });

  it('reports an unreachable Docker engine as a retryable infrastructure error, not a script failure', async () => {
    const unreachable = createDockerStepActivities({
      docker: new Docker({ socketPath: '/nonexistent/docker.sock' }),
      logs,
    });
    await assert.rejects(
      new MockActivityEnvironment().run(unreachable.runStep, stepInput({ prepareWorkspace: false })),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'DockerUnavailableError');
        assert.equal(error.nonRetryable, false);
        assert.match(error.message, /Docker engine failed while .*ENOENT/);
        return true;
      },
    );
  });

  it('fails at once with a non-retryable ImageNotFoundError for an image that is not on the host and may not be pulled', async () => {
    const input = stepInput({ image: 'conveyor/does-not-exist:1', pullPolicy: 'never' });
    await assert.rejects(runStepNow(input), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'ImageNotFoundError');
      assert.equal(error.nonRetryable, true);
      assert.match(error.message, /conveyor\/does-not-exist:1/);
      return true;
    });
  });

  it('stops a step at its timeout with SIGTERM and reports timed_out, removing the container', async () => {
    const input = stepInput({ script: ['echo started', 'sleep 600'], timeoutSeconds: 1, graceSeconds: 2 });
    const result = await runStepNow(input);
    assert.equal(result.outcome, 'timed_out');
    assert.equal(result.reason, 'timed_out');
    // 128 + 15: SIGTERM (forwarded by docker-init) ended the script within the grace period, before any SIGKILL.
    assert.equal(result.exitCode, 143);
    await settleStepRemovals();
    const containers = await docker.listContainers({ all: true, filters: { label: [`conveyor.step=${input.step}`] } });
    assert.deepEqual(containers, []);
  });
});
