/**
 * `pipelineRun`: one run of a pipeline (docs/runs.md, docs/architecture.md).
 *
 * A thin loop around the pure `RunScheduler` (pipeline/run-scheduler.ts): it starts the jobs the scheduler names,
 * records skips and cancellations, and feeds back every job that finishes — including a child workflow that
 * failed, timed out or was terminated, which fails its job with that reason instead of wedging the run. A cancel
 * or the run timeout stops the run: running jobs are cancelled, cleanup jobs (`if: always()`/`cancelled()`) still
 * run within the cleanup grace. Every container, volume and network of the run is removed in a non-cancellable
 * scope at the end.
 */
import {
  ApplicationFailure,
  CancelledFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  condition,
  isCancellation,
  patched,
  setHandler,
  sleep,
  startChild,
  TemporalFailure,
  TerminatedFailure,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FinishedJob } from '../pipeline/job-condition';
import type { JobModel } from '../pipeline/model';
import { RunScheduler, type SchedulerDecision } from '../pipeline/run-scheduler';
import { resourceActivities } from './activity-proxies';
import { decideJobsInline } from './job-placement';
import { runJob, type JobInput } from './job-runner';
import { artifactHooks, planJobArtifacts, releaseRunReferences } from './job-artifacts';
import { pipelineJob } from './pipeline-job';
import {
  pipelineFailedType,
  statusQuery,
  type JobReason,
  type JobState,
  type PipelineRunInput,
  type PipelineRunStatus,
  type RunStatus,
} from './pipeline-run-messages';
import { failureMessage, runResult, statusPage } from './run-result';
import { openRunIncident } from './run-investigation';
import { statusKey } from './search-attributes';
import { childWorkflowId } from './workflow-ids';
import { afterRun, beforeJobs, describeOutcome, releaseTurn } from './run-source';
import { jobSourcePlan, releaseRunSource } from './job-source';

/** Why and how the run is stopping early, as the run's timer and cancellation request report it. */
interface RunStop {
  reason: 'cancelled' | 'run_timed_out' | undefined;
  /** The cancellation Temporal delivered, rethrown at the end so the run is recorded as cancelled. */
  cancellation?: unknown;
}

/** A failed run opens (or joins) an incident before it ends. */
export const investigateFailedRunPatch = 'conveyor-investigate-failed-run';

/** A failed pipeline fails its workflow (with the run's result as details) instead of completing it. */
export const failedRunPatch = 'conveyor-failed-run-fails-workflow';

/**
 * Runs a pipeline to completion. Returns the run's result when it succeeds; a failed pipeline fails the workflow
 * with a `PipelineFailed` application failure whose details hold the result, and a cancelled one is cancelled.
 */
export async function pipelineRun(input: PipelineRunInput): Promise<PipelineRunStatus> {
  const { pipeline } = input;
  const runId = workflowInfo().workflowId;
  const resources = resourceActivities();
  const inline = decideJobsInline(pipeline.jobs, input.options?.inlineEventBudget);

  const status: PipelineRunStatus = {
    pipeline: pipeline.name,
    status: 'running',
    startedAt: new Date().toISOString(),
    jobs: Object.fromEntries(pipeline.jobs.map((job) => [job.name, initialJobState(job, input)])),
  };
  setHandler(statusQuery, (request) => statusPage(status, request));
  const setRunStatus = (value: RunStatus) => {
    status.status = value;
    upsertSearchAttributes([{ key: statusKey, value }]);
  };

  const stop: RunStop = { reason: undefined };
  CancellationScope.current().cancelRequested.catch((error: unknown) => {
    stop.reason ??= 'cancelled';
    stop.cancellation = error;
  });
  // Source, commit status and concurrency group (docs/triggers.md); a run cancelled while waiting runs no job.
  const preamble = await beforeJobs(input, status, runId, () => stop.reason !== undefined);
  if (!preamble.admitted) {
    for (const job of Object.values(status.jobs)) if (job.status === 'pending') job.status = 'cancelled';
    status.finishedAt = new Date().toISOString();
    setRunStatus('cancelled');
    await releaseTurn(preamble);
    await afterRun(input, runId, 'cancelled', 'Cancelled before its first job started');
    throw stop.cancellation ?? new CancelledFailure('the run was cancelled');
  }
  // The run timeout: a durable timer; cancelled with the run, or cleared when the jobs are done.
  const timer = new CancellationScope();
  void timer
    .run(() => sleep(pipeline.timeoutSeconds * 1000))
    .then(
      () => (stop.reason ??= 'run_timed_out'),
      () => undefined,
    );

  try {
    let networkName: string | undefined;
    let egressNetworkName: string | undefined;
    const needs = (network: JobModel['network']) =>
      pipeline.jobs.some((job) => job.network === network && !input.reuse?.[job.name]);
    try {
      if (needs('isolated')) networkName = await resources.ensureRunNetwork({ runId });
      // Only runs with `network: egress` jobs create it, so runs without one keep their command sequence.
      if (needs('egress')) egressNetworkName = await resources.ensureRunNetwork({ runId, egress: true });
    } catch (error) {
      // Cancelled while creating the network: `stop` already says so, and the jobs end cancelled below.
      if (!isCancellation(error)) throw error;
    }
    // The loop itself is never cancelled: it cancels jobs itself, so cleanup jobs can still run after a stop.
    await CancellationScope.nonCancellable(() =>
      runJobs(input, status, { networks: { isolated: networkName, egress: egressNetworkName }, inline }, stop),
    );
  } finally {
    timer.cancel();
    // Cleanup must happen even when the run was cancelled.
    await CancellationScope.nonCancellable(() => resources.cleanupRun({ runId }));
    if (artifactHooks.releases(status)) {
      await CancellationScope.nonCancellable(() => releaseRunReferences(runId, status, input.options));
    }
    await CancellationScope.nonCancellable(() => releaseRunSource(runId, status, input.options));
    // The group's next run starts only once this one's containers are gone.
    await releaseTurn(preamble);
  }

  const jobs = Object.values(status.jobs);
  status.finishedAt = new Date().toISOString();
  if (stop.reason === 'cancelled') {
    setRunStatus('cancelled');
    await afterRun(input, runId, 'cancelled', describeOutcome(status));
    // Rethrown after cleanup so Temporal records the run as cancelled; the status query still answers.
    throw stop.cancellation;
  }
  const failed = stop.reason === 'run_timed_out' || jobs.some((job) => job.status === 'failed');
  setRunStatus(failed ? 'failed' : 'success');
  await afterRun(input, runId, status.status, describeOutcome(status));
  const result = runResult(status);
  // Every failed run gets an investigation (docs/investigations.md); it never changes the run's own outcome.
  if (failed && patched(investigateFailedRunPatch)) {
    const incident = await openRunIncident(runId, result);
    if (incident) status.incident = result.incident = incident;
  }
  if (failed && patched(failedRunPatch)) {
    throw ApplicationFailure.create({
      type: pipelineFailedType,
      message: failureMessage(status),
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

function initialJobState(job: JobModel, input: PipelineRunInput): JobState {
  const reused = input.reuse?.[job.name];
  if (reused?.status === 'success') return { ...reused, baseName: job.baseName, reused: true };
  return { status: 'pending', baseName: job.baseName, steps: [] };
}

/** Drives the scheduler until every job has a final state. */
async function runJobs(
  input: PipelineRunInput,
  status: PipelineRunStatus,
  { networks, inline }: { networks: { isolated: string | undefined; egress: string | undefined }; inline: boolean },
  stop: RunStop,
): Promise<void> {
  const { pipeline } = input;
  const runId = workflowInfo().workflowId;
  const reused = Object.fromEntries(
    Object.entries(status.jobs).flatMap(([name, job]) => (job.reused ? [[name, finishedResult(job)]] : [])),
  );
  const scheduler = new RunScheduler(pipeline, reused);
  const jobsByName = new Map(pipeline.jobs.map((job, index) => [job.name, { job, index }]));
  const scopes = new Map<string, CancellationScope>();
  const cancelReasons = new Map<string, JobReason | undefined>();
  // Jobs that finished since the loop last looked; `condition` wakes the loop in O(1) instead of a race over every
  // running job's promise (which costs O(running) per completion and would dominate a run of thousands of jobs).
  const finished: string[] = [];
  // An error that is not a Temporal failure is a bug in workflow code: rethrown from the loop, it fails the
  // workflow task (retried until the code is fixed) instead of vanishing in a promise nobody awaits.
  let bug: unknown;
  const graceSeconds = input.options?.cleanupGraceSeconds ?? 300;

  const start = (name: string) => {
    const { job, index } = jobsByName.get(name)!;
    const jobInput: JobInput = {
      runId,
      pipelineName: pipeline.name,
      globalEnv: pipeline.globalEnv,
      job,
      networkName: job.network === 'none' ? undefined : networks[job.network],
      options: input.options,
      trigger: input.trigger,
      ...(input.source ? { source: input.source } : {}),
      artifacts: planJobArtifacts(pipeline, job, status.jobs),
      sourcePlan: jobSourcePlan(status),
    };
    Object.assign(status.jobs[name]!, { status: 'running', startedAt: new Date().toISOString() });
    const scope = new CancellationScope();
    scopes.set(name, scope);
    scope
      .run(async () => {
        if (inline) return runJob(jobInput, status.jobs[name]!);
        const workflowId = childWorkflowId(runId, index, name);
        status.jobs[name]!.workflowId = workflowId;
        const child = await startChild(pipelineJob, {
          workflowId,
          args: [jobInput],
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          staticSummary: `job ${name}`,
        });
        status.jobs[name] = { ...(await child.result()), workflowId };
      })
      .catch((error: unknown) => {
        const state = status.jobs[name]!;
        if (isCancellation(error)) {
          Object.assign(state, { status: 'cancelled', finishedAt: new Date().toISOString() });
          const reason = cancelReasons.get(name);
          if (reason) state.reason = reason;
        } else if (error instanceof TemporalFailure) {
          Object.assign(state, { status: 'failed', ...describeJobError(error), finishedAt: new Date().toISOString() });
        } else {
          bug = error;
        }
      })
      .finally(() => {
        scopes.delete(name);
        finished.push(name);
      });
  };

  const apply = (decisions: SchedulerDecision[]) => {
    for (const decision of decisions) {
      const state = status.jobs[decision.job]!;
      if (decision.kind === 'start') {
        start(decision.job);
      } else if (decision.kind === 'skip') {
        status.jobs[decision.job] = {
          ...state,
          status: 'skipped',
          reason: decision.reason,
          message: decision.message,
          finishedAt: new Date().toISOString(),
        };
      } else {
        // A plain cancel carries no reason (the run says it was cancelled); fail_fast and run_timed_out do.
        const reason = decision.reason === 'cancelled' ? undefined : decision.reason;
        if (decision.running) {
          cancelReasons.set(decision.job, reason);
          scopes.get(decision.job)?.cancel();
        } else {
          Object.assign(state, { status: 'cancelled', reason });
        }
      }
    }
  };

  apply(scheduler.start());
  let grace: CancellationScope | undefined;
  let graceOver = false;
  while (!scheduler.done) {
    await condition(
      () =>
        finished.length > 0 || bug !== undefined || (stop.reason !== undefined && !scheduler.stopReason) || graceOver,
    );
    if (bug !== undefined) throw bug;
    if (stop.reason !== undefined && !scheduler.stopReason) {
      apply(scheduler.stop(stop.reason));
      if (!scheduler.done) {
        // Cleanup jobs still run after a stop, but only for so long.
        grace = new CancellationScope();
        void grace
          .run(() => sleep(graceSeconds * 1000))
          .then(
            () => (graceOver = true),
            () => undefined,
          );
      }
    }
    if (graceOver) {
      graceOver = false;
      apply(scheduler.graceOver());
    }
    if (finished.length > 0) {
      const outcomes = finished.splice(0).map((job) => ({ job, outcome: finishedResult(status.jobs[job]!) }));
      apply(scheduler.finished(outcomes));
    }
  }
  grace?.cancel();
}

/** Why a job failed when its child workflow or an activity failed beyond its retries. */
function describeJobError(error: TemporalFailure): { reason: JobReason; message: string } {
  const cause = error instanceof ChildWorkflowFailure && error.cause ? error.cause : error;
  if (cause instanceof TerminatedFailure) return { reason: 'terminated', message: 'the job was terminated' };
  if (cause instanceof TimeoutFailure) return { reason: 'timed_out', message: `the job timed out (${cause.message})` };
  return { reason: 'infrastructure', message: cause.message };
}

/** A finished job's outcome as the conditions of its dependents see it. */
function finishedResult(job: JobState): FinishedJob {
  if (job.status === 'skipped') {
    return { result: 'skipped', reason: job.reason === 'condition_false' ? 'condition_false' : 'upstream_failed' };
  }
  return { result: job.status === 'success' || job.status === 'failed' ? job.status : 'cancelled' };
}
