/**
 * Running one job: its steps in order, each attempt in a fresh container via `runStep`; script retries follow
 * `retry_count`/`retry_on` on a durable backoff timer; the whole job is retried per the job's `retry_count` with an
 * empty workspace; the job timeout cancels whatever runs. The first step creates the workspace volume and the last
 * one removes it on success; otherwise it is removed in a non-cancellable scope whatever happens.
 *
 * Workflow code: the run workflow calls it inline for small pipelines, and the `pipelineJob` child workflow wraps
 * it for large ones (see pipeline-run.ts).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  sleep,
} from '@temporalio/workflow';
import type { JobModel, StepModel } from '../pipeline/model';
import { sourceVariables, type RunSource } from '../pipeline/source';
import type { RunStepInput, RunStepResult } from '../activities/docker-step';
import type { ExitReason } from '../activities/exit-codes';
import type { JobState, RunOptions, StepState } from './pipeline-run-messages';
import {
  engineClaimActivities,
  noRunnerFailure,
  resourceActivities,
  stepActivities,
  type PinnedJob,
} from './activity-proxies';
import { startDeadline } from './deadline';
import { runDeployJob } from './deploy-job';
import { retryDelaySeconds, shouldRetryStep } from './retry';
import {
  artifactHooks,
  downloadJobInputs,
  isHopelessArtifactReason,
  keepsWorkspaceForArtifacts,
  releaseJobInputs,
  uploadJobArtifacts,
  type JobArtifactPlan,
} from './job-artifacts';
import { checksOutSource, extractJobSource, type JobSourcePlan } from './job-source';

/** A step's activity also creates the container of the job's next step while it runs (docs/benchmarks.md). */
export const prepareNextStepPatch = 'conveyor-prepare-next-step';

/** A job's container work stays on the Docker engine that took it (docs/operations.md). */
export const pinJobHostPatch = 'conveyor-pin-job-host';

/**
 * A job whose first activity is its first step claims its Docker engine with that step, instead of a `claimJobHost`
 * round trip before it (docs/benchmarks.md, "Run overhead: the claim folded into the first step").
 */
export const claimInFirstStepPatch = 'conveyor-claim-host-in-first-step';

/**
 * Where a job attempt's container work goes: `input.job.hostQueue` once pinned; while `claiming`, the job's first
 * step goes to its pool's queue and its result names the engine that took it.
 */
interface JobHost {
  input: JobInput;
  claiming: boolean;
}

/** What running a job needs from its run. */
export interface JobInput {
  /** The run's workflow id: labels every container and volume of the job. */
  runId: string;
  pipelineName: string;
  globalEnv: Record<string, string>;
  job: JobModel;
  /** The run's isolated network, when the job uses one. */
  networkName?: string;
  options?: RunOptions;
  /** What started the run (`cli`, `rerun`, …): `CONVEYOR_TRIGGER`. */
  trigger?: string;
  /** The commit the run builds: the `CONVEYOR_*` source variables (docs/triggers.md). */
  source?: RunSource;
  /** Artifacts in and out (docs/artifacts.md); absent when the job has none. */
  artifacts?: JobArtifactPlan;
  /** The run's source archive to check out (docs/triggers.md); absent when the run has no source. */
  sourcePlan?: JobSourcePlan;
}

/**
 * Runs a job to a final state, updating `state` in place as it goes (queries read it); throws only when the job is
 * cancelled, after marking its unfinished steps cancelled.
 */
export async function runJob(input: JobInput, state: JobState): Promise<void> {
  const { job } = input;
  if (job.deploy) return runDeployJob(input, state);
  Object.assign(state, { status: 'running', baseName: job.baseName, startedAt: new Date().toISOString() });
  const backoff = input.options?.retryBackoff ?? { initialSeconds: 5, maxSeconds: 120 };
  for (let jobAttempt = 1; ; jobAttempt += 1) {
    state.attempts = jobAttempt;
    Object.assign(state, { status: 'running', reason: undefined, exitCode: undefined, failedStep: undefined });
    state.steps = job.steps.map((step) => ({ name: step.name, status: 'pending', attempts: 0 }));
    try {
      await runJobAttempt(input, state, jobAttempt);
    } finally {
      state.finishedAt = new Date().toISOString();
    }
    // Retrying the whole job cannot fix a missing image or a configuration mistake.
    const hopeless =
      state.reason === 'image_not_found' ||
      state.reason === 'configuration' ||
      state.reason === 'no_runner' ||
      isHopelessArtifactReason(state.reason);
    if (state.status === 'success' || hopeless || jobAttempt > job.retryCount) return;
    state.status = 'retrying';
    await sleep(retryDelaySeconds(jobAttempt, backoff, Math.random()) * 1000);
  }
}

/** One attempt of the whole job, bounded by the job timeout; leaves `state` final. */
async function runJobAttempt(input: JobInput, state: JobState, jobAttempt: number): Promise<void> {
  const { job, runId } = input;
  const deadline = startDeadline(job.timeoutSeconds);
  // The first step creates the workspace and, on success, the last one removes it (no extra round trips);
  // whatever else happens, it is removed here.
  const workspace = { removed: false };
  // All of the attempt's container work goes to the Docker engine that holds its workspace, which a worker of the
  // pool picks first (docs/operations.md, "A job stays on its Docker engine"); runs from before that replay as
  // they ran, on the pool's queue.
  let pinned: JobInput | undefined = patched(pinJobHostPatch) ? undefined : input;
  try {
    await deadline.scope.run(async () => {
      if (!pinned && claimsWithFirstStep(input) && patched(claimInFirstStepPatch)) {
        const host: JobHost = { input, claiming: true };
        // Until the first step answers, the workspace is wherever it ran; cleanup then goes to the pool's queue.
        pinned = input;
        try {
          await runSteps(host, state, jobAttempt, workspace);
        } finally {
          pinned = host.input;
        }
        return;
      }
      pinned ??= await pinToEngine(input, state);
      if (pinned) await runSteps({ input: pinned, claiming: false }, state, jobAttempt, workspace);
    });
  } catch (error) {
    if (!isCancellation(error)) throw error;
    markUnfinished(state, deadline.timedOut() ? 'timed_out' : 'cancelled');
    if (!deadline.timedOut()) throw error;
    Object.assign(state, { status: 'failed', reason: 'timed_out' });
  } finally {
    deadline.clear();
    // With no worker in the job's pool there is nobody to remove it; a worker's start sweeps closed runs' leftovers.
    // A job no engine took has no workspace.
    if (pinned && !workspace.removed && state.reason !== 'no_runner') {
      const resources = resourceActivities(pinned.job);
      const removal = CancellationScope.nonCancellable(() =>
        resources.removeWorkspace({ runId, job: job.name, jobAttempt }),
      );
      // A pinned job whose engine has no worker any more: a worker's start there sweeps the closed run's volume.
      await (pinned === input ? removal : removal.catch(() => undefined));
    }
    if (artifactHooks.downloads(input)) await CancellationScope.nonCancellable(() => releaseJobInputs(input));
  }
}

/**
 * The job with its Docker engine's queue (`PinnedJob`), or `undefined` after marking the job failed when no worker
 * of its pool answered (`no_runner` after `queue_timeout`).
 */
async function pinToEngine(input: JobInput, state: JobState): Promise<JobInput | undefined> {
  try {
    const { queue } = await engineClaimActivities(input.job).claimJobHost();
    const job: JobModel & PinnedJob = { ...input.job, hostQueue: queue };
    return { ...input, job };
  } catch (error) {
    if (isCancellation(error)) throw error;
    const failure = noRunnerFailure(error, input.job) ?? describeActivityFailure(error);
    const [first, ...rest] = state.steps;
    if (first) Object.assign(first, { status: 'failed', ...failure, finishedAt: new Date().toISOString() });
    for (const step of rest) step.status = 'skipped';
    Object.assign(state, { status: 'failed', ...failure, failedStep: first?.name });
    return undefined;
  }
}

/** Whether the job's first activity is its first step (no checkout, no artifacts to fetch before it). */
function claimsWithFirstStep(input: JobInput): boolean {
  return input.job.steps.length > 0 && !checksOutSource(input) && !artifactHooks.downloads(input);
}

async function runSteps(host: JobHost, state: JobState, jobAttempt: number, workspace: { removed: boolean }) {
  const { input } = host;
  const steps = input.job.steps;
  // The sources first, then the artifacts of earlier jobs over them.
  if (checksOutSource(input) && !(await extractJobSource(input, state, jobAttempt))) return;
  if (artifactHooks.downloads(input) && !(await downloadJobInputs(input, state, jobAttempt))) return;
  for (const [index, step] of steps.entries()) {
    const stepState = state.steps[index]!;
    const placement = { first: index === 0, last: index === steps.length - 1 };
    const following = steps[index + 1];
    const next = following && { step: following, first: false, last: index + 1 === steps.length - 1 };
    const ok = await runStepWithRetries(host, step, stepState, jobAttempt, placement, next);
    if (ok && placement.last) workspace.removed = true;
    if (!ok && !step.continueOnFailure) {
      Object.assign(state, {
        status: 'failed',
        reason: stepState.reason,
        exitCode: stepState.exitCode,
        failedStep: step.name,
        message: stepState.message,
      });
      for (const rest of state.steps.slice(index + 1)) rest.status = 'skipped';
      if (artifactHooks.uploads(input, 'failed')) await uploadJobArtifacts(host.input, state, jobAttempt, 'failed');
      return;
    }
  }
  // Stored before the job is marked success; a failed upload fails the job.
  if (
    artifactHooks.uploads(input, 'success') &&
    !(await uploadJobArtifacts(host.input, state, jobAttempt, 'success'))
  ) {
    return;
  }
  state.status = 'success';
}

/** Runs one step until it succeeds or its retries are spent; returns whether it succeeded. */
async function runStepWithRetries(
  host: JobHost,
  step: StepModel,
  stepState: StepState,
  jobAttempt: number,
  placement: { first: boolean; last: boolean },
  next?: { step: StepModel; first: boolean; last: boolean },
): Promise<boolean> {
  const { options = {} } = host.input;
  stepState.startedAt = new Date().toISOString();
  for (let attempt = 1; ; attempt += 1) {
    Object.assign(stepState, { status: 'running', attempts: attempt });
    let result: RunStepResult;
    // Read per attempt: the first attempt of a job's first step may pin the job to its engine.
    const { input } = host;
    const { job } = input;
    try {
      const stepInput = runStepInput(input, step, attempt, jobAttempt, placement);
      // The job's next step gets its container while this one runs (docs/benchmarks.md); runs recorded before that
      // keep their exact activity inputs.
      if (next && patched(prepareNextStepPatch)) stepInput.next = runStepInput(input, next.step, 1, jobAttempt, next);
      if (host.claiming) stepInput.claimHost = true;
      const summary = `${job.name} / ${step.name}${attempt > 1 ? ` (attempt ${attempt})` : ''}`;
      result = await executeStep(host, step, stepInput, summary);
    } catch (error) {
      if (isCancellation(error)) throw error;
      Object.assign(stepState, {
        status: 'failed',
        ...(noRunnerFailure(error, host.input.job) ?? describeActivityFailure(error)),
      });
      stepState.finishedAt = new Date().toISOString();
      return false;
    }
    Object.assign(stepState, { exitCode: result.exitCode, reason: result.reason, finishedAt: result.finishedAt });
    if (result.worker) stepState.worker = result.worker;
    if (result.outcome === 'success') {
      stepState.status = 'success';
      return true;
    }
    stepState.logTail = result.logTail;
    if (!shouldRetryStep(step, result, attempt)) {
      stepState.status = result.outcome === 'timed_out' ? 'timed_out' : 'failed';
      return false;
    }
    stepState.status = 'retrying';
    const backoff = options.retryBackoff ?? { initialSeconds: 5, maxSeconds: 120 };
    await sleep(retryDelaySeconds(attempt, backoff, Math.random()) * 1000);
  }
}

/**
 * Runs one step attempt's activity on the job's engine. A claiming step (the job's first, sent to its pool's queue)
 * pins the job to the engine its result names; when its retry reached another engine than the one its earlier
 * attempt claimed, the attempt is sent back to that engine's queue to adopt what the earlier one left
 * (docs/operations.md, "A job stays on its Docker engine").
 */
async function executeStep(
  host: JobHost,
  step: StepModel,
  stepInput: RunStepInput,
  summary: string,
): Promise<RunStepResult> {
  const { options = {} } = host.input;
  const run = (input: RunStepInput) =>
    stepActivities(
      step.timeoutSeconds + (options.graceSeconds ?? 30) + 60,
      options.heartbeatTimeoutSeconds ?? 20,
      host.input.job,
    ).runStep.executeWithOptions({ summary }, [input]);
  if (!host.claiming) return run(stepInput);
  let result: RunStepResult;
  try {
    result = await run(stepInput);
  } catch (error) {
    const claimed = claimedElsewhere(error);
    if (claimed === undefined) throw error;
    pinJob(host, claimed);
    return run({ ...stepInput, claimHost: undefined, adopt: true });
  }
  if (result.hostQueue) pinJob(host, result.hostQueue);
  // A worker that does not know its engine answers without a claim: the job stays on its pool's queue.
  host.claiming = false;
  return result;
}

function pinJob(host: JobHost, hostQueue: string): void {
  const job: JobModel & PinnedJob = { ...host.input.job, hostQueue };
  host.input = { ...host.input, job };
  host.claiming = false;
}

/** The engine queue a claiming step's earlier attempt claimed, when its retry reached another engine. */
function claimedElsewhere(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== 'StepOnOtherEngineError') return undefined;
  const [details] = cause.details ?? [];
  const hostQueue = (details as { hostQueue?: unknown } | undefined)?.hostQueue;
  return typeof hostQueue === 'string' ? hostQueue : undefined;
}

/** The `runStep` activity's input for one attempt of a step. */
function runStepInput(
  input: JobInput,
  step: StepModel,
  attempt: number,
  jobAttempt: number,
  placement: { first: boolean; last: boolean },
): RunStepInput {
  const { job, runId } = input;
  return {
    runId,
    job: job.name,
    step: step.name,
    attempt,
    jobAttempt,
    image: step.image,
    ...(step.pullPolicy ? { pullPolicy: step.pullPolicy } : {}),
    script: step.script,
    // Precedence (DESIGN.md §4): global_env < job environment < step environment.
    environment: { ...input.globalEnv, ...job.environment, ...step.environment },
    workingDirectory: step.workingDirectory,
    system: systemVariables(input, step, attempt, jobAttempt),
    timeoutSeconds: step.timeoutSeconds,
    graceSeconds: input.options?.graceSeconds ?? 30,
    resources: job.resources,
    networkMode: job.network === 'none' || !input.networkName ? 'none' : input.networkName,
    prepareWorkspace: placement.first,
    removeWorkspaceOnSuccess: placement.last && !keepsWorkspaceForArtifacts(job),
  };
}

/** Variables every step sees, known only at run time. */
function systemVariables(
  input: JobInput,
  step: StepModel,
  attempt: number,
  jobAttempt: number,
): Record<string, string> {
  return {
    CI: 'true',
    CONVEYOR: 'true',
    CONVEYOR_RUN_ID: input.runId,
    CONVEYOR_PIPELINE: input.pipelineName,
    CONVEYOR_JOB: input.job.name,
    CONVEYOR_STEP: step.name,
    CONVEYOR_ATTEMPT: String(attempt),
    CONVEYOR_JOB_ATTEMPT: String(jobAttempt),
    CONVEYOR_TRIGGER: input.trigger ?? '',
    ...sourceVariables(input.source, input.trigger),
    HOME: '/tmp',
  };
}

/** Turns an activity failure into a step reason and a one-line message. */
function describeActivityFailure(error: unknown): { reason: ExitReason; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type === 'ImageNotFoundError') {
    return { reason: 'image_not_found', message: cause.message };
  }
  // Registries that kept failing are infrastructure; refused credentials are the configuration's (docs/runs.md).
  if (cause instanceof ApplicationFailure && cause.type === 'ImagePullError')
    return { reason: 'infrastructure', message: cause.message };
  if (cause instanceof ApplicationFailure && cause.nonRetryable)
    return { reason: 'configuration', message: cause.message };
  const message = cause instanceof Error ? cause.message : String(cause);
  return { reason: 'infrastructure', message };
}

function markUnfinished(state: JobState, how: 'cancelled' | 'timed_out'): void {
  state.status = how === 'cancelled' ? 'cancelled' : 'failed';
  for (const step of state.steps) {
    if (step.status === 'running' || step.status === 'retrying') {
      step.status = how;
      if (how === 'timed_out') step.reason = 'timed_out';
    } else if (step.status === 'pending') {
      step.status = how === 'cancelled' ? 'cancelled' : 'skipped';
    }
  }
}
