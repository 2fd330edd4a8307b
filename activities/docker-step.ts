/**
 * The `runStep` activity: one pipeline step in one fresh, locked-down container (docs/runs.md).
 *
 * The container's name is derived from run, job, step and attempt, so a retried activity finds what an earlier
 * attempt left (docs/architecture.md, "Crash adoption"): the recorded outcome of a container that finished — returned
 * as is, the script is not run again — or the container itself, adopted: its output followed from the last line
 * already stored, its deadline kept from when it started. Output is demultiplexed into stdout/stderr records in
 * the log store as it arrives; only a short tail crosses Temporal. Each concern has a module of its own: the
 * container (create or adopt), its deadline, its logs and what is removed when.
 */
import { Context } from '@temporalio/activity';
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { registryAuthFor, type RegistriesSettings } from '../config/registries';
import { wrapDockerError } from './docker-errors';
import { removeCancelledStep, removeCancelledWorkspace, removeFinishedStep } from './docker-step-cleanup';
import {
  inspectState,
  neverStarted,
  prepareNextStep,
  startOrAdoptContainer,
  type StepContainer,
} from './docker-step-container';
import { armStepDeadline, ranPastDeadline } from './docker-step-deadline';
import { followStepLogs } from './docker-step-logs';
import type { RunStepInput, RunStepResult } from './docker-step-types';
import { StepHandedOverError, StepOnOtherEngineError, toApplicationFailure } from './errors';
import { cancelledByWorkerShutdown } from './docker-step-handover';
import { classifyExit } from './exit-codes';
import type { LogStore, LogWriter } from './log-store';
import { stepContainerName, workspaceVolumeName } from './names';
import { createSecretMasker } from './secret-masker';
import { createStaticSecretStore, type SecretStore } from './secrets';
import { resolveStepTemplate, type ResolvedStep } from './step-template';
import { isSizedVolumeFull } from './workspace-disk';
import { engineQueueOf } from '../pipeline/runner-pool';

export type { RunStepInput, RunStepResult } from './docker-step-types';
export { stepContainerOptions, stepUser } from './docker-step-container';

/** Dependencies of the Docker activities (injected clients). */
export interface DockerActivityDeps {
  docker: Docker;
  /** Step output, and the record of how each step attempt ended. */
  logs: LogStore;
  /** Where `${secrets.NAME}` values come from (default: none). */
  secrets?: SecretStore;
  /** Heartbeat interval in ms (default 2000). */
  heartbeatMs?: number;
  /** The owning cluster's label value, set on every container and volume (see `labels.cluster`). */
  cluster?: string;
  /** Credentials for pulling from private registries (`registries:` in conveyor.config.yml; docs/runs.md). */
  registries?: () => RegistriesSettings | undefined;
  /**
   * The Docker engine's id, which names its task queue within each pool (`engineTaskQueue`): a job's first step
   * claims the job for this engine (docs/operations.md, "A job stays on its Docker engine").
   */
  engineId?: string;
}

/** The longest line kept in a result's tail, in characters: the tail crosses Temporal. */
const maxTailLineLength = 1000;

/**
 * Which worker ran a step, as recorded in the run's status: `CONVEYOR_WORKER_NAME`, else Temporal's `pid@host`, with
 * the task queue it took the step from (a claiming step: the engine's queue it claimed the job for).
 */
function workerName(queue: string): string {
  return `${process.env.CONVEYOR_WORKER_NAME || `${process.pid}@${hostname()}`} (${queue})`;
}

/** Creates the container-step activities bound to a Docker client and a log store. */
export function createDockerStepActivities(deps: DockerActivityDeps) {
  async function runStep(input: RunStepInput): Promise<RunStepResult> {
    const ctx = Context.current();
    const claim = input.claimHost && deps.engineId ? engineQueueOf(ctx.info.taskQueue, deps.engineId) : undefined;
    // A claiming step's retry may reach another engine of the pool; the engine its earlier attempt claimed is in
    // that attempt's heartbeats, and the step belongs there (checked before this attempt's own heartbeat).
    const claimed = (ctx.info.heartbeatDetails as { hostQueue?: string } | undefined)?.hostQueue;
    if (claim && ctx.info.attempt > 1 && claimed && claimed !== claim) {
      throw toApplicationFailure(new StepOnOtherEngineError(claimed));
    }
    const heartbeat = {
      container: stepContainerName(input.runId, input.job, input.step, input.attempt, input.jobAttempt),
      ...(claim ? { hostQueue: claim } : {}),
    };
    // Heartbeats from the start: pulling an image or waiting for the engine may take a while too. The first one,
    // sent at once, also records the claim before any container exists.
    const beat = setInterval(() => ctx.heartbeat(heartbeat), deps.heartbeatMs ?? 2000);
    ctx.heartbeat(heartbeat);
    try {
      const result = await runStepInContainer(deps, input, heartbeat.container);
      return { ...result, worker: workerName(claim ?? ctx.info.taskQueue), ...(claim ? { hostQueue: claim } : {}) };
    } catch (error) {
      throw toApplicationFailure(error);
    } finally {
      clearInterval(beat);
    }
  }
  return { runStep };
}

async function runStepInContainer(deps: DockerActivityDeps, input: RunStepInput, name: string): Promise<RunStepResult> {
  const { docker, logs } = deps;
  const ctx = Context.current();
  const step = resolveStepTemplate(input, deps.secrets ?? createStaticSecretStore({}));
  // Only a retried activity (after a worker crash, an engine error or a server outage) can find an earlier
  // attempt's outcome or container.
  const retried = ctx.info.attempt > 1 || input.adopt === true;
  if (retried) {
    const recorded = (await logs.loadOutcome(input.runId, name)) as RunStepResult | undefined;
    if (recorded) {
      removeFinishedStep(docker, docker.getContainer(name), input, recorded.outcome === 'success');
      return { ...recorded, adopted: true };
    }
  }
  const started = await startOrAdoptContainer(docker, name, input, step, {
    retried,
    cluster: deps.cluster,
    registryAuth: (image) => registryAuthFor(deps.registries?.(), process.env, image),
  });
  // Created while this step runs; awaited before the result, so the next activity finds it whole.
  const secrets = deps.secrets ?? createStaticSecretStore({});
  const preparing = input.next
    ? prepareNextStep(docker, input.next, (next) => resolveStepTemplate(next, secrets), deps.cluster)
    : undefined;
  try {
    return await watchContainer(deps, input, step, name, started);
  } finally {
    await preparing;
    // A cancelled claiming step ends its job attempt before the workflow learnt which engine holds the workspace;
    // only this worker knows, so it removes it (with the container made ahead for the next step). Not when the worker
    // shuts down: the step is handed over with its container and workspace (docs/runs.md, "Stopping a worker").
    if (input.claimHost && ctx.cancellationSignal.aborted && !cancelledByWorkerShutdown(ctx)) {
      await removeCancelledWorkspace(docker, input);
    }
  }
}

/** Follows a started (or adopted) container to its end; records and returns its outcome. */
async function watchContainer(
  deps: DockerActivityDeps,
  input: RunStepInput,
  step: ResolvedStep,
  name: string,
  { container, adoptedState }: StepContainer,
): Promise<RunStepResult> {
  const { docker, logs } = deps;
  const ctx = Context.current();
  const adopted = adoptedState !== undefined;
  const startedAtMs = adoptedState && !neverStarted(adoptedState) ? Date.parse(adoptedState.StartedAt) : Date.now();
  const deadline = armStepDeadline(container, startedAtMs, input.timeoutSeconds, input.graceSeconds);
  // A cancel kills the container; the worker's shutdown instead stops following it and leaves it running for the
  // next attempt to adopt (docs/runs.md, "Stopping a worker").
  const handOver = new AbortController();
  const onCancel = () => {
    if (cancelledByWorkerShutdown(ctx)) handOver.abort();
    else container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
  };
  if (ctx.cancellationSignal.aborted) onCancel();
  else ctx.cancellationSignal.addEventListener('abort', onCancel);
  let writer: LogWriter | undefined;
  const closeWriter = async () => {
    const open = writer;
    writer = undefined;
    await open?.close();
  };
  const tail: string[] = [];
  const tailLines = input.tailLines ?? 20;
  let outcome: RunStepResult | undefined;
  try {
    const resume = adopted ? await logs.resumePoint(input.runId, input.job, input.step, input.attempt) : undefined;
    writer = await logs.writer(input.runId, input.job, input.step, input.attempt);
    const mask = createSecretMasker(step.secretValues);
    const where = { job: input.job, step: input.step, attempt: input.attempt };
    const streamed = followStepLogs(
      container,
      resume,
      writer,
      where,
      mask,
      (line) => {
        tail.push(line.length > maxTailLineLength ? `${line.slice(0, maxTailLineLength)}…` : line);
        if (tail.length > tailLines) tail.shift();
      },
      handOver.signal,
    );
    // Both end when the container exits; an engine error fails either, and both are awaited so none goes unhandled.
    const waiting = container.wait({ abortSignal: handOver.signal }) as Promise<{ StatusCode: number }>;
    const [waited] = await Promise.all([waiting, streamed]).catch(async (error: unknown) => {
      if (!handOver.signal.aborted) throw error;
      // Every line followed so far is stored (below): the adopting attempt resumes after the last one.
      await streamed.catch(() => undefined);
      throw new StepHandedOverError(
        `the worker shut down while step '${input.step}' of job '${input.job}' was running; its container ${name} ` +
          `is left running for the next attempt to adopt (docs/runs.md, "Stopping a worker")`,
        { container: name },
      );
    });
    const exitCode = waited.StatusCode;
    // The final state tells an OOM kill from any other exit, and whether an adopted container ran into its deadline.
    const finalState = exitCode !== 0 || adopted ? await inspectState(container) : undefined;
    const oomKilled = finalState?.OOMKilled ?? false;
    const timedOut =
      deadline.fired() ||
      (adopted && exitCode !== 0 && finalState !== undefined && ranPastDeadline(finalState, input.timeoutSeconds));
    // An exit seen before the worker's shutdown cancelled the activity is reported as usual.
    if (ctx.cancellationSignal.aborted && !handOver.signal.aborted) throw ctx.cancellationSignal.reason;
    // Every line is stored before the outcome is: an attempt that finds the outcome finds the whole log too.
    await closeWriter();
    // A failed step of a size-limited workspace ran out of disk when it said so (ENOSPC) or left the workspace full
    // (docs/runs.md, "Limits").
    const diskFull =
      exitCode !== 0 &&
      !timedOut &&
      !oomKilled &&
      input.resources.diskBytes !== undefined &&
      (tail.some((line) => /no space left on device|ENOSPC/i.test(line)) ||
        (await isSizedVolumeFull(docker, workspaceVolumeName(input.runId, input.job, input.jobAttempt))));
    const result: RunStepResult = {
      outcome: timedOut ? 'timed_out' : exitCode === 0 ? 'success' : 'failed',
      exitCode,
      reason: timedOut ? 'timed_out' : diskFull ? 'disk_full' : classifyExit(exitCode, oomKilled),
      oomKilled,
      startedAt: new Date(startedAtMs).toISOString(),
      finishedAt:
        finalState?.FinishedAt && !neverStarted(finalState) ? finalState.FinishedAt : new Date().toISOString(),
      logTail: tail,
      adopted,
    };
    await logs.saveOutcome(input.runId, name, result);
    // Only a recorded outcome lets the container go: without the record, a retry must find the container.
    outcome = result;
    return result;
  } catch (error) {
    if (ctx.cancellationSignal.aborted || error instanceof StepHandedOverError) throw error;
    throw wrapDockerError(error, `step '${input.step}' of job '${input.job}'`);
  } finally {
    deadline.clear();
    ctx.cancellationSignal.removeEventListener('abort', onCancel);
    await closeWriter().catch(() => undefined);
    if (outcome) removeFinishedStep(docker, container, input, outcome.outcome === 'success');
    else if (ctx.cancellationSignal.aborted && !handOver.signal.aborted) await removeCancelledStep(container);
    // Otherwise the engine failed, or the worker shut down, while the script may still run: the next attempt adopts
    // the container.
  }
}
