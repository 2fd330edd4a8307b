/**
 * `pipelineRun`: one run of a pipeline, walking its job DAG (DESIGN.md §5).
 *
 * A job starts the moment all its dependencies have finished and its condition holds (no level barriers), within
 * the run's and its matrix's parallelism limits; a failure skips its dependents transitively while independent
 * branches finish. Each job runs as a `pipelineJob` child workflow, so this history grows by a few events per
 * job. Every container, volume and network of the run is removed in a non-cancellable scope at the end.
 */
import {
  CancellationScope,
  condition,
  ChildWorkflowCancellationType,
  isCancellation,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { createPlan, decideJob, ReadySet, type FinishedJob, type JobModel } from '../pipeline';
import { resourceActivities } from './activity-proxies';
import { startDeadline } from './deadline';
import { runJob } from './job-runner';
import { pipelineJob } from './pipeline-job';
import {
  statusQuery,
  type JobState,
  type PipelineRunInput,
  type PipelineRunStatus,
  type RunStatus,
} from './pipeline-run-messages';
import { statusKey } from './search-attributes';
import { childWorkflowId } from './workflow-ids';

/**
 * Jobs run inline in this workflow — fewer round trips, and the status query shows their steps live — unless the
 * pipeline is so large that this history would grow past this many events; then each job runs as a `pipelineJob`
 * child workflow and adds only a few events here (bench/large-pipeline.ts measures both).
 */
export const inlineEventBudget = 10_000;

/** About how many history events a pipeline's jobs add when run inline: a job timer, ~6 events per step attempt. */
export function estimatedInlineEvents(jobs: readonly JobModel[]): number {
  const stepAttempts = (job: JobModel) => job.steps.reduce((sum, step) => sum + 1 + step.retryCount, 0);
  return jobs.reduce((sum, job) => sum + (2 + 6 * stepAttempts(job)) * (1 + job.retryCount), 0);
}

/** Runs a pipeline to completion and returns every job's outcome. */
export async function pipelineRun(input: PipelineRunInput): Promise<PipelineRunStatus> {
  const { pipeline } = input;
  const runId = workflowInfo().workflowId;
  const resources = resourceActivities();

  const status: PipelineRunStatus = {
    pipeline: pipeline.name,
    status: 'running',
    startedAt: new Date().toISOString(),
    jobs: Object.fromEntries(pipeline.jobs.map((job) => [job.name, initialJobState(job, input)])),
  };
  setHandler(statusQuery, () => status);
  const setRunStatus = (value: RunStatus) => {
    status.status = value;
    upsertSearchAttributes([{ key: statusKey, value }]);
  };

  const deadline = startDeadline(pipeline.timeoutSeconds);

  let cancellation: unknown;
  try {
    await deadline.scope.run(async () => {
      const needsNetwork = pipeline.jobs.some((job) => job.network === 'isolated' && !input.reuse?.[job.name]);
      const networkName = needsNetwork ? await resources.ensureRunNetwork({ runId }) : undefined;
      await walkDag(input, status, networkName);
    });
  } catch (error) {
    if (!isCancellation(error)) throw error;
    if (!deadline.timedOut()) cancellation = error;
    for (const job of Object.values(status.jobs)) {
      if (job.status === 'pending' || job.status === 'running' || job.status === 'retrying') {
        job.status = 'cancelled';
        if (deadline.timedOut()) job.reason = 'run_timed_out';
      }
    }
  } finally {
    deadline.clear();
    // Cleanup must happen even when the run was cancelled.
    await CancellationScope.nonCancellable(() => resources.cleanupRun({ runId }));
  }

  const jobs = Object.values(status.jobs);
  status.finishedAt = new Date().toISOString();
  if (cancellation) {
    setRunStatus('cancelled');
    // Rethrown after cleanup so Temporal records the run as cancelled; the status query still answers.
    throw cancellation;
  }
  setRunStatus(deadline.timedOut() || jobs.some((job) => job.status === 'failed') ? 'failed' : 'success');
  return status;
}

function initialJobState(job: JobModel, input: PipelineRunInput): JobState {
  const reused = input.reuse?.[job.name];
  if (reused?.status === 'success') return { ...reused, baseName: job.baseName, reused: true };
  return { status: 'pending', baseName: job.baseName, steps: [] };
}

/** Starts every job as soon as it is ready and allowed to, until every job has a final state. */
async function walkDag(input: PipelineRunInput, status: PipelineRunStatus, networkName: string | undefined) {
  const { pipeline } = input;
  const runId = workflowInfo().workflowId;
  const jobsByName = new Map(pipeline.jobs.map((job, index) => [job.name, { job, index }]));
  const ready = new ReadySet(createPlan(pipeline));
  const running = new Map<string, { promise: Promise<void>; scope: CancellationScope }>();
  // Jobs that finished since the loop last looked; `condition` wakes the loop in O(1) instead of a race over every
  // running job's promise (which costs O(running) per completion and would dominate a run of thousands of jobs).
  const done: string[] = [];
  const failedMatrices = new Set<string>();
  const runningPerMatrix = new Map<string, number>();
  const waiting: string[] = [];
  // Outcomes of finished jobs, kept as they finish, for the conditions of the jobs that become ready.
  const results: Record<string, FinishedJob> = {};
  const finish = (name: string) => {
    results[name] = finishedResult(status.jobs[name]!);
    waiting.push(...ready.complete(name));
  };
  waiting.push(...ready.roots());

  const mayStart = (job: JobModel) =>
    running.size < (pipeline.maxParallel ?? Infinity) &&
    (runningPerMatrix.get(job.baseName) ?? 0) < (job.strategy?.maxParallel ?? Infinity);

  const inline = estimatedInlineEvents(pipeline.jobs) <= (input.options?.inlineEventBudget ?? inlineEventBudget);
  const start = (job: JobModel, index: number) => {
    const state = status.jobs[job.name]!;
    const jobInput = {
      runId,
      pipelineName: pipeline.name,
      globalEnv: pipeline.globalEnv,
      job,
      networkName: job.network === 'isolated' ? networkName : undefined,
      options: input.options,
    };
    Object.assign(state, { status: 'running', startedAt: new Date().toISOString() });
    runningPerMatrix.set(job.baseName, (runningPerMatrix.get(job.baseName) ?? 0) + 1);
    const scope = new CancellationScope();
    const promise = scope
      .run(async () => {
        if (inline) return runJob(jobInput, state);
        const workflowId = childWorkflowId(runId, index, job.name);
        state.workflowId = workflowId;
        const child = await startChild(pipelineJob, {
          workflowId,
          args: [jobInput],
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          staticSummary: `job ${job.name}`,
        });
        status.jobs[job.name] = { ...(await child.result()), workflowId };
      })
      .then(
        () => undefined,
        (error: unknown) => {
          if (!isCancellation(error)) throw error;
          Object.assign(state, { status: 'cancelled', finishedAt: new Date().toISOString() });
          if (failFastCancelled.has(job.name)) state.reason = 'fail_fast';
        },
      )
      .then(() => {
        done.push(job.name);
      });
    running.set(job.name, { promise, scope });
  };

  // Matrix siblings cancelled because another expansion failed (strategy.failFast).
  const failFastCancelled = new Set<string>();
  const onFinished = (name: string) => {
    const { job } = jobsByName.get(name)!;
    runningPerMatrix.set(job.baseName, (runningPerMatrix.get(job.baseName) ?? 1) - 1);
    if (status.jobs[name]?.status === 'failed' && job.strategy?.failFast) {
      failedMatrices.add(job.baseName);
      for (const [sibling, { scope }] of running) {
        if (jobsByName.get(sibling)?.job.baseName === job.baseName) {
          failFastCancelled.add(sibling);
          scope.cancel();
        }
      }
    }
  };

  while (waiting.length > 0 || running.size > 0) {
    // Decide every waiting job: start it, skip it, or keep it waiting for a parallelism slot.
    const stillWaiting: string[] = [];
    for (let i = 0; i < waiting.length; i += 1) {
      const name = waiting[i]!;
      const { job, index } = jobsByName.get(name)!;
      const state = status.jobs[name]!;
      if (state.reused) {
        // A re-run took this job's result over: it is final from the start.
        finish(name);
      } else if (job.strategy?.failFast && failedMatrices.has(job.baseName)) {
        Object.assign(state, { status: 'cancelled', reason: 'fail_fast' });
        finish(name);
      } else {
        const decision = decideJob(pipeline, job, results);
        if (decision.run && !mayStart(job)) {
          stillWaiting.push(name);
        } else if (decision.run) {
          start(job, index);
        } else {
          status.jobs[name] = {
            ...state,
            status: 'skipped',
            reason: decision.reason,
            message: decision.message,
            finishedAt: new Date().toISOString(),
          };
          finish(name);
        }
      }
    }
    // Jobs that `finish` made ready during the pass were appended and decided in it too.
    waiting.length = 0;
    for (const name of stillWaiting) waiting.push(name);
    if (running.size === 0) continue;
    try {
      await condition(() => done.length > 0);
    } catch (error) {
      // Cancelled (by `conveyor cancel` or the run timeout): every running job is being cancelled with this scope;
      // wait until they have cleaned up before the run ends.
      await Promise.all([...running.values()].map((entry) => entry.promise));
      throw error;
    }
    for (const name of done.splice(0)) {
      running.delete(name);
      onFinished(name);
      finish(name);
    }
  }
}

/** A finished job's outcome as the conditions of its dependents see it. */
function finishedResult(job: JobState): FinishedJob {
  if (job.status === 'skipped') {
    return { result: 'skipped', reason: job.reason === 'condition_false' ? 'condition_false' : 'upstream_failed' };
  }
  return { result: job.status === 'success' || job.status === 'failed' ? job.status : 'cancelled' };
}
