/**
 * The run's source in its jobs (docs/triggers.md): the run archives its commit **once** into the artifact store
 * (`archiveRunSource`), every job that checks out extracts that archive, digest-verified, into its `/workspace`
 * before its first step (`extractJobSource`), and the run drops its reference to the archive when it ends
 * (`releaseRunSource`). Only the digest, size and file count cross Temporal, never content.
 */
import { ActivityFailure, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import { dockerQueue, noRunnerFailure, queueTimeout } from './activity-proxies';
import type { createSourceActivities } from '../activities/source/source-activities';
import type { CheckoutModel, JobModel } from '../pipeline/model';
import type { RunSource, SourceArchive } from '../pipeline/source';
import { artifactActivities, describeArtifactFailure } from './job-artifacts';
import type { JobState, PipelineRunInput, PipelineRunStatus, RunOptions } from './pipeline-run-messages';

type SourceActivities = ReturnType<typeof createSourceActivities>;

/** Runs recorded before source archives replay without them (STYLE.md 11); runs without a source are unchanged. */
const sourceArchivePatch = 'source-archive';

function sourceActivities(options: RunOptions = {}, job?: JobModel) {
  return proxyActivities<SourceActivities>({
    taskQueue: dockerQueue(job),
    ...(job ? { scheduleToStartTimeout: queueTimeout(job) } : {}),
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: `${options.heartbeatTimeoutSeconds ?? 20} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
  });
}

/** What a job needs to check out the run's source. */
export interface JobSourcePlan {
  archive?: SourceArchive;
  /** Why there is no archive although the run has a source (the job fails with it). */
  error?: string;
}

/** Whether any job of the run wants the sources (`checkout: false` on every job makes no archive). */
function wantsSource(jobs: readonly JobModel[]): boolean {
  return jobs.some((job) => job.checkout !== false);
}

/**
 * Archives the run's commit into the store once; records the archive (or why there is none) in `status`. A cancel
 * meanwhile is rethrown: the run ends cancelled before its first job (workflows/run-source.ts).
 */
export async function archiveRunSource(input: PipelineRunInput, status: PipelineRunStatus, runId: string) {
  const source = input.source;
  if (!source || !wantsSource(input.pipeline.jobs) || !patched(sourceArchivePatch)) return;
  try {
    status.sourceArchive = await sourceActivities(input.options).archiveSource.executeWithOptions(
      { summary: `source archive of ${source.commit.slice(0, 12)}` },
      [
        {
          runId,
          repository: source.repository,
          commit: source.commit,
          ...(source.ref ? { ref: source.ref } : {}),
          ...(input.pipeline.submodules ? { submodules: true } : {}),
        },
      ],
    );
  } catch (error) {
    if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
    status.sourceError = `the source archive of ${source.commit.slice(0, 12)} could not be made: ${describeArtifactFailure(error).message}`;
  }
}

/** The plan a job gets from its run. */
export function jobSourcePlan(status: PipelineRunStatus): JobSourcePlan | undefined {
  if (status.sourceArchive) return { archive: status.sourceArchive };
  if (status.sourceError) return { error: status.sourceError };
  return undefined;
}

/**
 * Whether a job checks the run's sources out. Checked before awaiting {@link extractJobSource}: a job without
 * sources must schedule its first step in the same workflow activation, or runs recorded before sources existed
 * would replay their commands in another order.
 */
export function checksOutSource(input: { job: JobModel; sourcePlan?: JobSourcePlan }): boolean {
  return input.sourcePlan !== undefined && input.job.checkout !== false;
}

/**
 * Extracts the run's source archive into the job's workspace (or `checkout.path` under it) before its first step;
 * false when that failed, the job then `failed` with the reason and its steps skipped.
 */
export async function extractJobSource(
  input: { runId: string; job: JobModel; source?: RunSource; sourcePlan?: JobSourcePlan; options?: RunOptions },
  state: JobState,
  jobAttempt: number,
): Promise<boolean> {
  const { job, sourcePlan } = input;
  if (!sourcePlan || job.checkout === false) return true;
  const fail = (reason: JobState['reason'], message: string) => {
    Object.assign(state, { status: 'failed', reason, message });
    for (const step of state.steps) step.status = 'skipped';
    return false;
  };
  if (!sourcePlan.archive) return fail('infrastructure', sourcePlan.error ?? 'the run has no source archive');
  const checkout: CheckoutModel = job.checkout ?? { path: '' };
  try {
    await sourceActivities(input.options, input.job).extractSource.executeWithOptions(
      { summary: `${job.name} / checkout ${input.source?.commit.slice(0, 12) ?? ''}` },
      [
        {
          runId: input.runId,
          job: job.name,
          jobAttempt,
          archive: sourcePlan.archive,
          path: checkout.path,
          ...(job.resources.diskBytes === undefined ? {} : { diskBytes: job.resources.diskBytes }),
        },
      ],
    );
    return true;
  } catch (error) {
    // A cancelled checkout cancels the job (job-runner.ts marks it), it does not fail it.
    if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
    const { reason, message } = noRunnerFailure(error, job) ?? describeArtifactFailure(error);
    return fail(reason, `checkout: ${message}`);
  }
}

/** Drops the run's reference to its source archive (retention may delete it once no run holds it). */
export async function releaseRunSource(runId: string, status: PipelineRunStatus, options?: RunOptions) {
  if (!status.sourceArchive) return;
  await artifactActivities(options).releaseReferences({ runId, digests: [status.sourceArchive.digest] });
}
