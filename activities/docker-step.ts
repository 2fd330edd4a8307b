/**
 * The `runStep` activity: one pipeline step in one fresh, locked-down container (docs/runs.md).
 *
 * The container's name is derived from run, job, step and attempt, so a retried activity (after a worker crash)
 * finds the container an earlier attempt started and adopts it — re-attaching to its output and waiting for it —
 * instead of starting a second one (docs/architecture.md, "Crash adoption"). Output is demultiplexed into
 * stdout/stderr records in the log store as it arrives; only a short tail crosses Temporal. Each concern has a
 * module of its own: the container (create or adopt), its deadline, its logs and the cleanup.
 */
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import { wrapDockerError } from './docker-errors';
import { cleanUpStep } from './docker-step-cleanup';
import { inspectState, startOrAdoptContainer } from './docker-step-container';
import { armStepDeadline } from './docker-step-deadline';
import { followStepLogs, type LogPosition } from './docker-step-logs';
import type { RunStepInput, RunStepResult } from './docker-step-types';
import { toApplicationFailure } from './errors';
import { classifyExit } from './exit-codes';
import type { LogStore } from './log-store';
import { stepContainerName } from './names';
import { createSecretMasker } from './secret-masker';
import { createStaticSecretStore, type SecretStore } from './secrets';
import { resolveStepTemplate } from './step-template';

export type { RunStepInput, RunStepResult } from './docker-step-types';
export { stepContainerOptions, stepUser } from './docker-step-container';

/** Dependencies of the Docker activities (injected clients). */
export interface DockerActivityDeps {
  docker: Docker;
  logs: LogStore;
  /** Where `${secrets.NAME}` values come from (default: none). */
  secrets?: SecretStore;
  /** Heartbeat interval in ms (default 2000). */
  heartbeatMs?: number;
  /** The owning cluster's label value, set on every container and volume (see `labels.cluster`). */
  cluster?: string;
}

/** Heartbeat details: the container and how far its log was stored. */
interface StepHeartbeat extends LogPosition {
  container: string;
}

/** Creates the container-step activities bound to a Docker client and a log store. */
export function createDockerStepActivities(deps: DockerActivityDeps) {
  async function runStep(input: RunStepInput): Promise<RunStepResult> {
    try {
      return await runStepInContainer(deps, input);
    } catch (error) {
      throw toApplicationFailure(error);
    }
  }
  return { runStep };
}

async function runStepInContainer(deps: DockerActivityDeps, input: RunStepInput): Promise<RunStepResult> {
  const { docker, logs, heartbeatMs = 2000 } = deps;
  const ctx = Context.current();
  const step = resolveStepTemplate(input, deps.secrets ?? createStaticSecretStore({}));
  const mask = createSecretMasker(step.secretValues);
  const name = stepContainerName(input.runId, input.job, input.step, input.attempt, input.jobAttempt);
  const previous = ctx.info.heartbeatDetails as StepHeartbeat | undefined;
  const heartbeat: StepHeartbeat = { container: name, loggedUntil: previous?.loggedUntil };

  // Only a retried activity (after a worker crash or an engine error) can find its container already there.
  const { container, adoptedState } = await startOrAdoptContainer(docker, name, input, step, {
    retried: ctx.info.attempt > 1,
    cluster: deps.cluster,
  });
  const startedAt = new Date().toISOString();
  const writer = await logs.writer(input.runId, input.job, input.step, input.attempt);
  const tail: string[] = [];
  const tailLines = input.tailLines ?? 20;
  let succeeded = false;

  const deadline = armStepDeadline(container, input.timeoutSeconds, input.graceSeconds);
  const beat = setInterval(() => ctx.heartbeat(heartbeat), heartbeatMs);
  ctx.heartbeat(heartbeat);
  const onCancel = () => {
    container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
  };
  ctx.cancellationSignal.addEventListener('abort', onCancel);

  try {
    const where = { job: input.job, step: input.step, attempt: input.attempt };
    const streamed = followStepLogs(container, heartbeat, writer, where, mask, (line) => {
      tail.push(line);
      if (tail.length > tailLines) tail.shift();
    });
    const waited = (await container.wait()) as { StatusCode: number };
    await streamed;
    const exitCode = waited.StatusCode;
    // Only a failure needs the container's state: to tell an OOM kill from any other exit.
    const finalState = exitCode === 0 ? undefined : await inspectState(container);
    const oomKilled = finalState?.OOMKilled ?? false;
    const classified = classifyExit(exitCode, oomKilled);
    const timedOut = deadline.timedOut();
    succeeded = exitCode === 0 && !timedOut;
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    return {
      outcome: timedOut ? 'timed_out' : exitCode === 0 ? 'success' : 'failed',
      exitCode,
      reason: timedOut ? 'timed_out' : classified,
      oomKilled,
      startedAt,
      finishedAt: new Date().toISOString(),
      logTail: tail,
      adopted: adoptedState !== undefined,
    };
  } catch (error) {
    if (ctx.cancellationSignal.aborted) throw error;
    throw wrapDockerError(error, `step '${input.step}' of job '${input.job}'`);
  } finally {
    deadline.clear();
    clearInterval(beat);
    ctx.cancellationSignal.removeEventListener('abort', onCancel);
    await writer.close().catch(() => undefined);
    await cleanUpStep(docker, container, input, succeeded);
  }
}
