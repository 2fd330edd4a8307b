/**
 * Artifacts in a job's life (docs/artifacts.md), as hooks the job runner calls:
 *
 * - before the first step, `downloadJobInputs` fetches, verifies and extracts the artifacts of the jobs named by
 *   `artifacts_from` (default: every job it needs) — a failure fails the job before any step runs;
 * - after the steps succeed, and before the job is marked `success`, `uploadJobArtifacts` stores every declared
 *   artifact (after a failed step, only those declared `when: always`);
 * - when the job ends, `releaseJobInputs` drops the references it held; when the run ends, `releaseRunReferences`
 *   drops whatever its jobs still hold (jobs that never ran).
 *
 * Only digests, sizes and counts cross Temporal, never content.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import type { ArtifactInput, createArtifactActivities } from '../activities/artifacts/activities';
import type { artifactFailureReasons } from '../activities/artifacts/errors';
import type { JobModel, PipelineModel } from '../pipeline/model';
import type { RetentionPolicy } from '../pipeline/retention-policy';
import type { JobReason, JobState, PipelineRunStatus, RunOptions } from './pipeline-run-messages';
import { dockerQueue, noRunnerFailure, queueTimeout } from './activity-proxies';

type ArtifactActivities = ReturnType<typeof createArtifactActivities>;

/** What a job needs to know about artifacts, worked out by the run when the job starts. */
export interface JobArtifactPlan {
  /** Artifacts to extract before the first step, in the order of the jobs it needs. */
  inputs: ArtifactInput[];
  /** Jobs of the run that will receive this job's artifacts: each holds a reference until it finishes. */
  consumers: string[];
  /** The pipeline's own retention policies, kept with each record. */
  retention?: RetentionPolicy[];
}

/** The job reason of each artifact failure (the activities' table, checked against it by the compiler). */
const failureReasons: typeof artifactFailureReasons = {
  ArtifactMissingError: 'artifact_missing',
  ArtifactDigestMismatchError: 'artifact_corrupted',
  ArtifactUnsafeError: 'artifact_unsafe',
  StoreFullError: 'store_full',
};

/**
 * Runs that started before artifacts were transferred replay without these activities (STYLE.md 11); the marker is
 * recorded only by jobs that have something to transfer, so runs without artifacts are unchanged.
 */
const transfersPatch = 'artifact-transfers';

/** Reasons a whole-job retry cannot fix. */
export function isHopelessArtifactReason(reason: JobReason | undefined): boolean {
  return reason !== undefined && (Object.values(failureReasons) as JobReason[]).includes(reason);
}

/**
 * The artifact activities on the Docker task queue: transfers heartbeat (a crashed worker's transfer moves to
 * another within the heartbeat timeout); an unreachable store is retried with backoff for about five minutes.
 */
export function artifactActivities(
  options: RunOptions = {},
  job?: { pool?: string; queueTimeoutSeconds?: number },
): ActivityInterfaceFor<ArtifactActivities> {
  return proxyActivities<ArtifactActivities>({
    taskQueue: dockerQueue(job),
    ...(job ? { scheduleToStartTimeout: queueTimeout(job) } : {}),
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: `${options.heartbeatTimeoutSeconds ?? 20} seconds`,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 12 },
  });
}

/** The artifacts `job` receives and the jobs that will receive its own, from the run's job states. */
export function planJobArtifacts(
  pipeline: PipelineModel,
  job: JobModel,
  jobs: Readonly<Record<string, JobState>>,
): JobArtifactPlan {
  const sources = (job.artifactsFrom ?? job.dependsOn).filter((name) => job.dependsOn.includes(name));
  const inputs: ArtifactInput[] = [];
  for (const producer of sources) {
    for (const [name, artifact] of Object.entries(jobs[producer]?.artifacts ?? {})) {
      const input: ArtifactInput = {
        name,
        producer,
        producerRun: artifact.run,
        pipeline: pipeline.name,
        digest: artifact.digest,
        size: artifact.size,
        files: artifact.files,
      };
      if (artifact.compression) input.compression = artifact.compression;
      inputs.push(input);
    }
  }
  const consumers =
    job.artifacts.length === 0
      ? []
      : pipeline.jobs
          .filter(
            (other) =>
              other.dependsOn.includes(job.name) && (other.artifactsFrom ?? other.dependsOn).includes(job.name),
          )
          .map((other) => other.name);
  const plan: JobArtifactPlan = { inputs, consumers };
  if (pipeline.artifactRetention?.length) plan.retention = pipeline.artifactRetention;
  return plan;
}

/**
 * Whether a hook has anything to do. Callers check first and skip the `await` otherwise: even an `await` of a hook
 * that returns at once would delay the job by a microtask and reorder the commands of concurrent jobs, breaking
 * the replay of runs recorded without artifacts.
 */
export const artifactHooks = {
  downloads: (input: ArtifactHookInput) => (input.artifacts?.inputs.length ?? 0) > 0,
  uploads: (input: ArtifactHookInput, outcome: 'success' | 'failed') =>
    input.job.artifacts.some((artifact) => outcome === 'success' || artifact.when === 'always'),
  releases: (status: PipelineRunStatus) => Object.values(status.jobs).some((job) => job.artifacts),
};

/** Whether the job's workspace must outlive its last step (it has artifacts to store). */
export function keepsWorkspaceForArtifacts(job: JobModel): boolean {
  return job.artifacts.length > 0;
}

/** What the artifact hooks need from the job runner. */
export interface ArtifactHookInput {
  runId: string;
  pipelineName: string;
  job: JobModel;
  artifacts?: JobArtifactPlan;
  options?: RunOptions;
}

/**
 * Extracts the job's inputs into its fresh workspace. Returns false when that failed: the job is then `failed`
 * with the reason and message, and its steps `skipped`.
 */
export async function downloadJobInputs(
  input: ArtifactHookInput,
  state: JobState,
  jobAttempt: number,
): Promise<boolean> {
  const inputs = input.artifacts?.inputs ?? [];
  if (inputs.length === 0 || !patched(transfersPatch)) return true;
  try {
    await artifactActivities(input.options, input.job).downloadArtifacts.executeWithOptions(
      { summary: `${input.job.name} / artifacts in (${inputs.map((a) => a.name).join(', ')})` },
      [
        {
          runId: input.runId,
          job: input.job.name,
          jobAttempt,
          artifacts: inputs,
          ...(input.job.resources.diskBytes === undefined ? {} : { diskBytes: input.job.resources.diskBytes }),
        },
      ],
    );
    return true;
  } catch (error) {
    // A cancelled download cancels the job (job-runner.ts marks it), it does not fail it.
    if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
    Object.assign(state, {
      status: 'failed',
      ...(noRunnerFailure(error, input.job) ?? describeArtifactFailure(error)),
    });
    for (const step of state.steps) step.status = 'skipped';
    return false;
  }
}

/** Runs recorded before deploy jobs verified their inputs replay without the activities (STYLE.md 11). */
const deployVerifiesPatch = 'deploy-verifies-inputs';

/**
 * A deploy job's check of its inputs before the rollout is requested (ART-047, docs/artifacts.md#deployments): each
 * artifact of the jobs it takes artifacts from is re-hashed in the store (a mismatch is checked once more). Returns
 * false when one is corrupted or missing: the job is then `failed` with the reason and message, and no rollout
 * starts. Callers check `artifactHooks.downloads` first.
 */
export async function verifyDeployInputs(input: ArtifactHookInput, state: JobState): Promise<boolean> {
  const inputs = input.artifacts?.inputs ?? [];
  if (inputs.length === 0 || !patched(deployVerifiesPatch)) return true;
  try {
    for (const artifact of inputs) {
      await artifactActivities(input.options).verifyArtifact.executeWithOptions(
        { summary: `${input.job.name} / verify ${artifact.name} of ${artifact.producer}` },
        [{ digest: artifact.digest, size: artifact.size, name: artifact.name, producer: artifact.producer }],
      );
    }
    return true;
  } catch (error) {
    // A cancelled check cancels the job (like a cancelled rollout request), it does not fail it.
    if (isCancellation(error)) state.status = 'cancelled';
    if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
    Object.assign(state, { status: 'failed', ...describeArtifactFailure(error) });
    return false;
  }
}

/**
 * Stores the job's artifacts: all of them after its steps succeeded, only `when: always` ones after a failure.
 * Returns false when that failed; after successful steps the job is then `failed` with the reason (a failed job
 * keeps its own reason).
 */
export async function uploadJobArtifacts(
  input: ArtifactHookInput,
  state: JobState,
  jobAttempt: number,
  outcome: 'success' | 'failed',
): Promise<boolean> {
  const declared = input.job.artifacts.filter((artifact) => outcome === 'success' || artifact.when === 'always');
  if (declared.length === 0 || !patched(transfersPatch)) return true;
  try {
    const result = await artifactActivities(input.options, input.job).uploadArtifacts.executeWithOptions(
      { summary: `${input.job.name} / artifacts out (${declared.map((a) => a.name).join(', ')})` },
      [
        {
          runId: input.runId,
          pipeline: input.pipelineName,
          job: input.job.name,
          jobAttempt,
          artifacts: declared.map(({ name, paths, optional }) => ({ name, paths, optional })),
          consumers: input.artifacts?.consumers ?? [],
          retention: input.artifacts?.retention,
        },
      ],
    );
    state.artifacts = { ...state.artifacts, ...result.artifacts };
    return true;
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    if (outcome === 'success') Object.assign(state, { status: 'failed', ...describeArtifactFailure(error) });
    else state.message = `${state.message ? `${state.message}; ` : ''}${describeArtifactFailure(error).message}`;
    return false;
  }
}

/** Drops the references the job held on its inputs (whatever its outcome). */
export async function releaseJobInputs(input: ArtifactHookInput): Promise<void> {
  const digests = (input.artifacts?.inputs ?? []).map((artifact) => artifact.digest);
  if (digests.length === 0 || !patched(transfersPatch)) return;
  await artifactActivities(input.options).releaseReferences({ runId: input.runId, digests, jobs: [input.job.name] });
}

/** Drops every reference the run's jobs still hold (consumers that never ran, jobs that were cancelled). */
export async function releaseRunReferences(
  runId: string,
  status: PipelineRunStatus,
  options?: RunOptions,
): Promise<void> {
  const digests = [
    ...new Set(Object.values(status.jobs).flatMap((job) => Object.values(job.artifacts ?? {}).map((a) => a.digest))),
  ];
  if (digests.length === 0 || !patched(transfersPatch)) return;
  await artifactActivities(options).releaseReferences({ runId, digests });
}

export function describeArtifactFailure(error: ActivityFailure): { reason: JobReason; message: string } {
  const cause = error.cause;
  if (cause instanceof ApplicationFailure && cause.type && cause.type in failureReasons) {
    return { reason: failureReasons[cause.type as keyof typeof failureReasons], message: cause.message };
  }
  return { reason: 'infrastructure', message: cause instanceof Error ? cause.message : String(cause) };
}
