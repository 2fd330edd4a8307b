/**
 * Health checks of deployment instances (DEP-070 … DEP-075, docs/deployments.md#health-checks): HTTP (status and
 * body), TCP, or a command run in the container, through the instance's port published on 127.0.0.1.
 *
 * - `waitHealthy` gates a starting instance: healthy after `success_threshold` passes in a row; unhealthy after
 *   `failure_threshold` wrong answers in a row (a configuration error shows at once), when the container exits or
 *   restarts, or when `start_timeout` passes. A refused connection while it starts only means "not up yet".
 * - `watchHealth` follows instances in rotation and returns as soon as one fails `failure_threshold` checks in a row.
 */
import net from 'node:net';
import type Docker from 'dockerode';
import type { HealthCheckSpec, HealthProbe } from '../deploy/spec';
import { inspectContainer, publishedPort, sleepUnlessAborted } from './deployment-docker';

/** The result of one probe. */
export interface ProbeResult {
  ok: boolean;
  /** False when nothing answered (refused, timed out): a starting instance is simply not up yet. */
  answered: boolean;
  /** DEP-073's messages: `Health check passed`, `Expected status 200, got 500`, … */
  message: string;
}

/** Probes one instance once. */
export async function probeOnce(
  docker: Docker,
  container: string,
  hostPort: number,
  probe: HealthProbe,
  timeoutSeconds: number,
): Promise<ProbeResult> {
  const timedOut = { ok: false, answered: false, message: `Health check timed out after ${timeoutSeconds}s` };
  if (probe.kind === 'http') {
    try {
      const response = await fetch(`http://127.0.0.1:${hostPort}${probe.path}`, {
        signal: AbortSignal.timeout(timeoutSeconds * 1000),
        headers: { connection: 'close' },
      });
      const body = await response.text();
      if (response.status !== probe.expectStatus) {
        return { ok: false, answered: true, message: `Expected status ${probe.expectStatus}, got ${response.status}` };
      }
      if (probe.expectBody !== undefined && !body.includes(probe.expectBody)) {
        return { ok: false, answered: true, message: `Expected body content '${probe.expectBody}' not found` };
      }
      return { ok: true, answered: true, message: 'Health check passed' };
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') return timedOut;
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      return { ok: false, answered: false, message: `Health check error: ${cause}` };
    }
  }
  if (probe.kind === 'tcp') {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: hostPort });
      const done = (result: ProbeResult) => {
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(timeoutSeconds * 1000, () => done(timedOut));
      socket.once('connect', () => done({ ok: true, answered: true, message: 'Health check passed' }));
      socket.once('error', (error: NodeJS.ErrnoException) =>
        done({ ok: false, answered: false, message: `Health check error: ${error.code ?? error.message}` }),
      );
    });
  }
  const exec = await docker
    .getContainer(container)
    .exec({ Cmd: probe.command, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const finished = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.resume();
  });
  const inTime = await Promise.race([
    finished.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutSeconds * 1000)),
  ]);
  if (!inTime) {
    stream.destroy();
    return timedOut;
  }
  const { ExitCode } = await exec.inspect();
  return ExitCode === 0
    ? { ok: true, answered: true, message: 'Health check passed' }
    : // A command has no "not up yet": its exit code is its answer, but failures while starting only delay.
      { ok: false, answered: false, message: `Health check command exited with ${ExitCode}` };
}

/** Input of `waitHealthy` and `watchHealth`. */
export interface HealthInput {
  /** Instance container names. */
  instances: string[];
  /** The port the service listens on in its containers. */
  port: number;
  healthCheck: HealthCheckSpec;
}

/** A failed instance. */
export interface HealthFailure {
  instance: string;
  message: string;
}

/** `waitHealthy`'s result: healthy, or the first instance that failed and why. */
export type HealthResult = { healthy: true } | { healthy: false; failure: HealthFailure };

/** Why a container is not usable (exited, restarting, restarted), or undefined when it runs. */
async function containerProblem(docker: Docker, name: string): Promise<string | undefined> {
  const info = await inspectContainer(docker, name);
  if (!info) return 'the container is gone';
  if (info.RestartCount > 0 || info.State.Restarting) {
    return `the container exited with code ${info.State.ExitCode} and was restarted (${info.RestartCount} times)`;
  }
  if (!info.State.Running) return `the container exited with code ${info.State.ExitCode}`;
  return undefined;
}

async function hostPortOf(docker: Docker, name: string, port: number): Promise<number | undefined> {
  const info = await inspectContainer(docker, name);
  return info ? publishedPort(info, port) : undefined;
}

/** Waits until every instance is healthy, or one fails; `beat` is called on every round (heartbeats). */
export async function waitHealthy(
  docker: Docker,
  input: HealthInput,
  signal: AbortSignal,
  beat: () => void = () => {},
): Promise<HealthResult> {
  const check = input.healthCheck;
  const deadline = Date.now() + check.startTimeoutSeconds * 1000;
  const state = new Map(input.instances.map((name) => [name, { passes: 0, failures: 0, last: 'not checked yet' }]));
  for (;;) {
    beat();
    for (const [name, counts] of state) {
      if (counts.passes >= check.successThreshold) continue;
      const problem = await containerProblem(docker, name);
      if (problem) return { healthy: false, failure: { instance: name, message: problem } };
      const hostPort = await hostPortOf(docker, name, input.port);
      const result = hostPort
        ? await probeOnce(docker, name, hostPort, check.probe, check.timeoutSeconds)
        : { ok: false, answered: false, message: `port ${input.port} is not published` };
      counts.last = result.message;
      if (result.ok) {
        counts.passes += 1;
        counts.failures = 0;
      } else {
        counts.passes = 0;
        if (result.answered) counts.failures += 1;
        if (counts.failures >= check.failureThreshold) {
          return {
            healthy: false,
            failure: { instance: name, message: `${result.message} (${counts.failures} checks in a row)` },
          };
        }
      }
    }
    if ([...state.values()].every((counts) => counts.passes >= check.successThreshold)) return { healthy: true };
    if (Date.now() >= deadline) {
      const [name, counts] = [...state].find(([, c]) => c.passes < check.successThreshold)!;
      return {
        healthy: false,
        failure: {
          instance: name,
          message: `did not become healthy within ${check.startTimeoutSeconds}s (last: ${counts.last})`,
        },
      };
    }
    await sleepUnlessAborted(check.intervalSeconds * 1000, signal);
  }
}

/**
 * Follows instances in rotation until one fails `failure_threshold` checks in a row (any failure counts now) or
 * its container exits; runs until cancelled otherwise.
 */
export async function watchHealth(
  docker: Docker,
  input: HealthInput & { intervalSeconds?: number },
  signal: AbortSignal,
  beat: () => void = () => {},
): Promise<HealthFailure> {
  const check = input.healthCheck;
  const failures = new Map(input.instances.map((name) => [name, 0]));
  for (;;) {
    beat();
    for (const name of input.instances) {
      const problem = await containerProblem(docker, name);
      if (problem) return { instance: name, message: problem };
      const hostPort = await hostPortOf(docker, name, input.port);
      const result = hostPort
        ? await probeOnce(docker, name, hostPort, check.probe, check.timeoutSeconds)
        : { ok: false, answered: false, message: `port ${input.port} is not published` };
      const count = result.ok ? 0 : (failures.get(name) ?? 0) + 1;
      failures.set(name, count);
      if (count >= check.failureThreshold)
        return { instance: name, message: `${result.message} (${count} checks in a row)` };
    }
    await sleepUnlessAborted((input.intervalSeconds ?? check.intervalSeconds) * 1000, signal);
  }
}
