/**
 * The `runStep` activity: one pipeline step in one fresh, locked-down container (DESIGN.md §5).
 *
 * The container's name is derived from run, job, step and attempt, so a retried activity (after a worker crash)
 * finds the container an earlier attempt started and adopts it — re-attaching to its output and waiting for it —
 * instead of starting a second one. Output is demultiplexed into stdout/stderr records in the log store as it
 * arrives; only a short tail crosses Temporal.
 */
import { PassThrough } from 'node:stream';
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import { DockerUnavailableError, ImageNotFoundError, toApplicationFailure } from './errors';
import type { LogStore, LogWriter } from './log-store';
import { labels, ownerLabels, stepContainerName, workspaceVolumeName } from './names';
import { LineSplitter } from './line-splitter';
import { classifyExit, type ExitReason } from './exit-codes';
import { isDockerNotFound, wrapDockerError } from './docker-errors';
import { deleteWorkspace, ensureWorkspace } from './docker-resources';
import { createSecretMasker } from './secret-masker';
import { createStaticSecretStore, type SecretStore } from './secrets';
import { resolveStepTemplate, type ResolvedStep } from './step-template';

/** One step attempt, fully resolved by the run workflow. */
export interface RunStepInput {
  /** The run's workflow id. */
  runId: string;
  job: string;
  step: string;
  /** Script attempt (1-based); each gets its own container. */
  attempt: number;
  /** Whole-job attempt (1-based, job-level `retry_count`); default 1. */
  jobAttempt?: number;
  /** Image template. Image, script, environment and working directory are templates: see step-template.ts. */
  image: string;
  script: string[];
  /** Environment, merged by precedence; values may hold `${secrets.NAME}`. */
  environment: Record<string, string>;
  workingDirectory: string;
  /** Run-time system variables for the templates (`CONVEYOR_RUN_ID`, …); also set in the container. */
  system: Record<string, string>;
  /** Seconds before SIGTERM. */
  timeoutSeconds: number;
  /** Seconds between SIGTERM and SIGKILL on timeout. */
  graceSeconds: number;
  resources: { memoryBytes: number; cpus: number };
  /** `none`, or the name of the run's isolated network. */
  networkMode: string;
  /** Create the workspace volume first when it does not exist yet (the job's first step). */
  prepareWorkspace?: boolean;
  /** Remove the workspace volume when the step succeeds (the job's last step): saves the job a round trip. */
  removeWorkspaceOnSuccess?: boolean;
  /** Lines of output kept in the result for the workflow (default 20). */
  tailLines?: number;
}

/** What a step attempt did. Script failures are results, not exceptions: the workflow decides on retries. */
export interface RunStepResult {
  outcome: 'success' | 'failed' | 'timed_out';
  exitCode: number;
  reason?: ExitReason;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  /** The last lines of output (stdout and stderr interleaved), for the run's status and error messages. */
  logTail: string[];
  /** True when this attempt adopted a container started by an earlier, crashed activity attempt. */
  adopted: boolean;
}

/** Heartbeat details: lets a retried activity resume the log stream where the crashed one stopped. */
interface StepHeartbeat {
  container: string;
  /** Docker timestamp (RFC 3339, nanoseconds) of the last line written to the log store. */
  loggedUntil?: string;
}

/** Dependencies of the Docker activities (STYLE.md 5). */
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

/** The user every step runs as (DESIGN.md §5: never root). */
export const stepUser = '1000:1000';

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

  let container = docker.getContainer(name);
  // Only a retried activity (after a worker crash or an engine error) can find its container already there.
  const existing = ctx.info.attempt > 1 ? await inspectState(container) : undefined;
  const adopted = existing !== undefined;
  if (!existing) {
    if (input.prepareWorkspace) {
      const workspace = { runId: input.runId, job: input.job, jobAttempt: input.jobAttempt, cluster: deps.cluster };
      await ensureWorkspace(docker, workspace).catch((error: unknown) => {
        throw wrapDockerError(error, `preparing the workspace of job '${input.job}'`);
      });
    }
    container = await createStepContainer(docker, name, input, step, deps.cluster);
    await container.start().catch(ignoreAlreadyStarted);
  } else if (!existing.Running && existing.StartedAt.startsWith('0001')) {
    // Created but never started. One that already ran (it finished while no worker watched) is not started
    // again: its output is still in the container's log and its exit code in its state.
    await container.start().catch(ignoreAlreadyStarted);
  }
  const startedAt = new Date().toISOString();
  const writer = await logs.writer(input.runId, input.job, input.step, input.attempt);
  const tail: string[] = [];
  const tailLines = input.tailLines ?? 20;
  let timedOut = false;
  let succeeded = false;

  const stopForTimeout = setTimeout(() => {
    timedOut = true;
    // docker stop = SIGTERM, wait `t` seconds, then SIGKILL; docker-init (Init: true) forwards the signal.
    container.stop({ t: input.graceSeconds }).catch(() => undefined);
  }, input.timeoutSeconds * 1000);
  const beat = setInterval(() => ctx.heartbeat(heartbeat), heartbeatMs);
  ctx.heartbeat(heartbeat);
  const onCancel = () => {
    container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
  };
  ctx.cancellationSignal.addEventListener('abort', onCancel);

  try {
    const streamed = streamLogs(container, heartbeat, writer, input, mask, (line) => {
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
      adopted,
    };
  } catch (error) {
    if (ctx.cancellationSignal.aborted) throw error;
    throw wrapDockerError(error, `step '${input.step}' of job '${input.job}'`);
  } finally {
    clearTimeout(stopForTimeout);
    clearInterval(beat);
    ctx.cancellationSignal.removeEventListener('abort', onCancel);
    await writer.close().catch(() => undefined);
    // The container is removed whatever happened: its output is already in the log store.
    await container.remove({ force: true, v: false }).catch(() => undefined);
    if (succeeded && input.removeWorkspaceOnSuccess) {
      await deleteWorkspace(docker, { runId: input.runId, job: input.job, jobAttempt: input.jobAttempt }).catch(
        () => undefined,
      );
    }
  }
}

async function createStepContainer(
  docker: Docker,
  name: string,
  input: RunStepInput,
  step: ResolvedStep,
  cluster: string | undefined,
): Promise<Docker.Container> {
  try {
    const volume = workspaceVolumeName(input.runId, input.job, input.jobAttempt);
    return await docker.createContainer(stepContainerOptions(name, input, step, volume, cluster));
  } catch (error) {
    if (isDockerNotFound(error) && /no such image/i.test(String((error as Error).message))) {
      throw new ImageNotFoundError(step.image);
    }
    if ((error as { statusCode?: number }).statusCode === 409) return docker.getContainer(name);
    throw wrapDockerError(error, `creating the container for step '${input.step}'`);
  }
}

/** The container of a step: its command, environment, labels and the security defaults of DESIGN.md §5. */
export function stepContainerOptions(
  name: string,
  input: RunStepInput,
  step: Pick<ResolvedStep, 'image' | 'script' | 'environment' | 'workingDirectory'>,
  workspaceVolume: string,
  cluster?: string,
): Docker.ContainerCreateOptions {
  return {
    name,
    Image: step.image,
    Cmd: ['/bin/sh', '-ec', step.script.join('\n')],
    Entrypoint: [],
    Env: Object.entries({ ...input.system, ...step.environment }).map(([key, value]) => `${key}=${value}`),
    WorkingDir: step.workingDirectory,
    User: stepUser,
    Labels: {
      ...ownerLabels(input.runId, cluster),
      [labels.job]: input.job,
      [labels.step]: input.step,
      [labels.attempt]: String(input.attempt),
    },
    HostConfig: {
      // docker-init as PID 1 forwards SIGTERM to the script, so a timeout can end it gracefully.
      Init: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      PidsLimit: 512,
      Memory: input.resources.memoryBytes,
      MemorySwap: input.resources.memoryBytes,
      NanoCpus: Math.round(input.resources.cpus * 1e9),
      NetworkMode: input.networkMode,
      Mounts: [{ Type: 'volume', Source: workspaceVolume, Target: '/workspace' }],
      LogConfig: { Type: 'json-file', Config: {} },
    },
  };
}

/** Follows the container's log from `loggedUntil` (or the start) into the log store until the container exits. */
async function streamLogs(
  container: Docker.Container,
  heartbeat: StepHeartbeat,
  writer: LogWriter,
  input: RunStepInput,
  mask: (line: string) => string,
  onLine: (line: string) => void,
): Promise<void> {
  const since = heartbeat.loggedUntil ? Date.parse(heartbeat.loggedUntil) / 1000 : 0;
  const raw = (await container.logs({
    follow: true,
    stdout: true,
    stderr: true,
    timestamps: true,
    since,
  })) as unknown as NodeJS.ReadableStream;
  const resumeAfter = heartbeat.loggedUntil;
  const sink = (stream: 'stdout' | 'stderr') =>
    new LineSplitter((stamped) => {
      const space = stamped.indexOf(' ');
      const ts = stamped.slice(0, space);
      // Masked before it is stored, heartbeated or kept in the tail: a secret never leaves this function.
      const line = mask(stamped.slice(space + 1));
      // Lines at or before the last one a crashed attempt logged are already in the store.
      if (resumeAfter && ts <= resumeAfter) return;
      writer.write({ stream, job: input.job, step: input.step, attempt: input.attempt, line });
      heartbeat.loggedUntil = ts;
      onLine(line);
    });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = sink('stdout');
  const err = sink('stderr');
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  container.modem.demuxStream(raw, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    raw.on('end', resolve);
    raw.on('close', resolve);
    raw.on('error', reject);
  });
  out.flush();
  err.flush();
}

async function inspectState(container: Docker.Container): Promise<Docker.ContainerInspectInfo['State'] | undefined> {
  try {
    return (await container.inspect()).State;
  } catch (error) {
    if (isDockerNotFound(error)) return undefined;
    throw wrapDockerError(error, `inspecting container ${container.id}`);
  }
}

function ignoreAlreadyStarted(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode === 304) return;
  throw error instanceof DockerUnavailableError ? error : wrapDockerError(error, 'starting the container');
}
