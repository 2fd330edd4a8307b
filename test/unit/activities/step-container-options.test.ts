/** The container a step runs in: the security defaults and limits of docs/runs.md, from its options alone. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stepContainerOptions, stepUser } from '../../../activities/docker-step-container';
import type { RunStepInput } from '../../../activities/docker-step-types';

const input: RunStepInput = {
  runId: 'run-1',
  job: 'build',
  step: 'compile',
  attempt: 1,
  image: 'conveyor/busybox:latest',
  script: ['make'],
  environment: {},
  system: { CI: 'true', CONVEYOR_RUN_ID: 'run-1', CONVEYOR_JOB: 'build' },
  workingDirectory: '/workspace',
  timeoutSeconds: 60,
  graceSeconds: 2,
  resources: { memoryBytes: 512 * 1024 * 1024, cpus: 1.5 },
  networkMode: 'conveyor-run-1',
  prepareWorkspace: true,
};

function options(environment: Record<string, string> = {}) {
  const step = { image: input.image, script: ['make', 'make test'], environment, workingDirectory: '/workspace' };
  return stepContainerOptions('conveyor-run-1-build-compile-a1', input, step, 'conveyor-run-1-build-ws', 'c/default');
}

describe("a step container's options", () => {
  it('runs the script as a non-root user with no capabilities and no privilege escalation', () => {
    const created = options();
    assert.equal(created.User, stepUser);
    assert.notEqual(created.User?.split(':')[0], '0');
    assert.deepEqual(created.HostConfig?.CapDrop, ['ALL']);
    assert.deepEqual(created.HostConfig?.SecurityOpt, ['no-new-privileges']);
    assert.equal(created.HostConfig?.Privileged, false);
    assert.equal(created.HostConfig?.Init, true, 'docker-init forwards SIGTERM at a timeout');
    assert.deepEqual(created.Cmd, ['/bin/sh', '-ec', 'make\nmake test']);
  });

  it('limits pids, memory (without swap) and CPU, and joins the given network', () => {
    const host = options().HostConfig!;
    assert.equal(host.PidsLimit, 512);
    assert.equal(host.Memory, 512 * 1024 * 1024);
    assert.equal(host.MemorySwap, 512 * 1024 * 1024);
    assert.equal(host.NanoCpus, 1.5e9);
    assert.equal(host.NetworkMode, 'conveyor-run-1');
  });

  it('mounts only the job workspace, and labels the container with its run, cluster, job, step and attempt', () => {
    const created = options();
    assert.deepEqual(created.HostConfig?.Mounts, [
      { Type: 'volume', Source: 'conveyor-run-1-build-ws', Target: '/workspace' },
    ]);
    assert.equal(created.WorkingDir, '/workspace');
    assert.deepEqual(created.Labels, {
      'conveyor.run': 'run-1',
      'conveyor.cluster': 'c/default',
      'conveyor.job': 'build',
      'conveyor.step': 'compile',
      'conveyor.attempt': '1',
    });
  });

  it("caps the size of Docker's own log of the container", () => {
    const log = options().HostConfig?.LogConfig;
    assert.equal(log?.Type, 'json-file');
    assert.ok(log?.Config?.['max-size'], 'a max-size is set');
    assert.ok(log?.Config?.['max-file'], 'a max-file is set');
  });

  it("never lets the step environment override Conveyor's system variables", () => {
    const env = options({ CI: 'false', CONVEYOR_RUN_ID: 'forged', GREETING: 'hi' }).Env!;
    assert.ok(env.includes('CI=true'));
    assert.ok(env.includes('CONVEYOR_RUN_ID=run-1'));
    assert.ok(env.includes('GREETING=hi'));
    assert.equal(env.filter((entry) => entry.startsWith('CI=')).length, 1);
    assert.equal(env.filter((entry) => entry.startsWith('CONVEYOR_RUN_ID=')).length, 1);
  });
});
