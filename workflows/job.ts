/**
 * One job of a run, as workflow code: its steps in order, each attempt in a fresh container via `runStep`, with
 * script retries per `retry_count`/`retry_on` on a durable backoff timer and a job-level timeout.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  sleep,
  ActivityFailure,
} from '@temporalio/workflow';
import type { JobModel, StepModel } from '../pipeline/model';
import type { createDockerResourceActivities } from '../activities/docker-resources';
import type { createDockerStepActivities, RunStepResult } from '../activities/docker-step';
import type { ExitReason } from '../activities/exit-codes';
import type { JobState, PipelineRunInput, StepState } from './pipeline-run-messages';
import { retryDelaySeconds, shouldRetryStep } from './retry';

type StepActivities = ReturnType<typeof createDockerStepActivities>;
type ResourceActivities = ReturnType<typeof createDockerResourceActivities>;

/** Everything `runJob` needs from its run. */
export interface RunJobContext {
  job: JobModel;
  /** The job's live state, updated in place (the `status` query reads it). */
  state: JobState;
  runId: string;
  input: PipelineRunInput;
  networkName: string | undefined;
  dockerQueue: string;
  resources: ResourceActivities;
}

/** Runs a job to a final state; never throws except for workflow cancellation. */
export async function runJob(context: RunJobContext): Promise<void> {
  const { job, state } = context;
  state.status = 'running';
  state.startedAt = new Date().toISOString();
  state.steps = job.steps.map((step) => ({ name: step.name, status: 'pending', attempts: 0 }));

  let timedOut = false;
  const body = new CancellationScope();
  const timer = new CancellationScope();
  void timer
    .run(() => sleep(job.timeoutSeconds * 1000))
    .then(
      () => {
        timedOut = true;
        body.cancel();
      },
      () => undefined,
    );
  try {
    await body.run(() => runSteps(context));
  } catch (error) {
    if (!isCancellation(error)) throw error;
    if (!timedOut) {
      markUnfinished(state, 'cancelled');
      throw error;
    }
    markUnfinished(state, 'timed_out');
    state.status = 'failed';
    state.reason = 'timed_out';
  } finally {
    timer.cancel();
    state.finishedAt = new Date().toISOString();
  }
}

async function runSteps(context: RunJobContext): Promise<void> {
  const { job, state, runId, resources } = context;
  const workspaceVolume = await resources.prepareWorkspace({ runId, job: job.name });
  for (const [index, step] of job.steps.entries()) {
    const stepState = state.steps[index]!;
    const ok = await runStepWithRetries(context, step, stepState, workspaceVolume);
    if (!ok && !step.continueOnFailure) {
      state.status = 'failed';
      state.reason = stepState.reason;
      state.exitCode = stepState.exitCode;
      state.failedStep = step.name;
      state.message = stepState.message;
      for (const rest of state.steps.slice(index + 1)) rest.status = 'skipped';
      return;
    }
  }
  state.status = 'success';
}

/** Runs one step until it succeeds or its retries are spent; returns whether it succeeded. */
async function runStepWithRetries(
  context: RunJobContext,
  step: StepModel,
  stepState: StepState,
  workspaceVolume: string,
): Promise<boolean> {
  const { job, state, runId, input, networkName, dockerQueue } = context;
  const options = input.options ?? {};
  const graceSeconds = options.graceSeconds ?? 30;
  const { runStep } = proxyActivities<StepActivities>({
    taskQueue: dockerQueue,
    // The activity may take the step's whole timeout plus the grace period and time to pull logs and clean up.
    startToCloseTimeout: `${step.timeoutSeconds + graceSeconds + 60} seconds`,
    heartbeatTimeout: `${options.heartbeatTimeoutSeconds ?? 20} seconds`,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // Only infrastructure errors reach Temporal's retry: script failures come back as results.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
  });

  stepState.startedAt = new Date().toISOString();
  for (let attempt = 1; ; attempt += 1) {
    stepState.status = 'running';
    stepState.attempts = attempt;
    let result: RunStepResult;
    try {
      result = await runStep.executeWithOptions(
        {
          summary: `${job.name} / ${step.name}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
        },
        [
          {
            runId,
            job: job.name,
            step: step.name,
            attempt,
            image: step.image,
            script: step.script,
            environment: stepEnvironment(context, step),
            workingDirectory: step.workingDirectory,
            timeoutSeconds: step.timeoutSeconds,
            graceSeconds,
            resources: job.resources,
            networkMode: job.network === 'none' || !networkName ? 'none' : networkName,
            workspaceVolume,
          },
        ],
      );
    } catch (error) {
      if (isCancellation(error)) {
        stepState.status = 'cancelled';
        throw error;
      }
      const failure = describeActivityFailure(error);
      Object.assign(stepState, { status: 'failed', reason: failure.reason, message: failure.message });
      stepState.finishedAt = new Date().toISOString();
      return false;
    }
    Object.assign(stepState, { exitCode: result.exitCode, reason: result.reason, finishedAt: result.finishedAt });
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
    state.status = 'retrying';
    const backoff = options.retryBackoff ?? { initialSeconds: 5, maxSeconds: 120 };
    await sleep(retryDelaySeconds(attempt, backoff, Math.random()) * 1000);
    state.status = 'running';
  }
}

/** The container environment: system variables < global_env < job env < step env (DESIGN.md §4). */
function stepEnvironment(context: RunJobContext, step: StepModel): Record<string, string> {
  const { input, job, runId } = context;
  return {
    CI: 'true',
    CONVEYOR: 'true',
    CONVEYOR_RUN_ID: runId,
    CONVEYOR_PIPELINE: input.pipeline.name,
    CONVEYOR_JOB: job.name,
    CONVEYOR_STEP: step.name,
    HOME: '/tmp',
    ...input.pipeline.globalEnv,
    ...job.environment,
    ...step.environment,
  };
}

/** Turns an activity failure into a step reason and a one-line message. */
function describeActivityFailure(error: unknown): { reason: ExitReason; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type === 'ImageNotFoundError') {
    return { reason: 'image_not_found', message: cause.message };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { reason: 'infrastructure', message };
}

function markUnfinished(state: JobState, status: 'cancelled' | 'timed_out'): void {
  state.status = status === 'cancelled' ? 'cancelled' : 'failed';
  for (const step of state.steps) {
    if (step.status === 'running' || step.status === 'retrying') {
      step.status = status;
      if (status === 'timed_out') step.reason = 'timed_out';
    } else if (step.status === 'pending') {
      step.status = status === 'cancelled' ? 'cancelled' : 'skipped';
    }
  }
}
