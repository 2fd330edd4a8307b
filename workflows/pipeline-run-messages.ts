/**
 * The messages of the run workflows: `pipelineRun`'s input, result and queries, and the `pipelineJob` child's
 * query — the contract between the workflows, the CLI and the worker. Client code imports queries and signals from
 * here, never from workflow code (docs/architecture.md, "Import zones"). Plain JSON throughout.
 */
import { defineQuery } from '@temporalio/workflow';
import type { PipelineModel } from '../pipeline/model';
import type { RunSource, SourceArchive } from '../pipeline/source';
import type { ExitReason } from '../activities/exit-codes';
import type { JobArtifact } from '../activities/artifacts/activities';
import type { Evidence, RolloutOutcome } from '../deploy/rollout-machine';

/** Tunables of a run. Every duration is an input (STYLE.md 10) so tests can use seconds. */
export interface RunOptions {
  /** Seconds between SIGTERM and SIGKILL when a step times out (default 30). */
  graceSeconds?: number;
  /** Script-retry backoff: first delay, doubling up to the maximum, ±25 % jitter (defaults 5 s and 120 s). */
  retryBackoff?: { initialSeconds: number; maxSeconds: number };
  /** How long a step activity may go without a heartbeat before Temporal retries it elsewhere (default 20 s). */
  heartbeatTimeoutSeconds?: number;
  /**
   * Jobs run inline in the run's workflow while its estimated history stays within this many events, else as
   * child workflows (default 10,000; 0 always uses children).
   */
  inlineEventBudget?: number;
  /**
   * After a cancel or the run timeout, how long cleanup jobs (`if:` with `always()` or `cancelled()`) may still run
   * before they are cancelled too, in seconds (default 300).
   */
  cleanupGraceSeconds?: number;
}

/** Input of `pipelineRun`. */
export interface PipelineRunInput {
  pipeline: PipelineModel;
  /** Runtime variables (`--var`), recorded for re-runs; already applied to `pipeline` by the parser. */
  vars: Record<string, string>;
  /** What started the run, e.g. `cli`. */
  trigger: string;
  options?: RunOptions;
  /**
   * Jobs whose results a re-run takes over from an earlier run instead of running them (`conveyor rerun
   * --failed`): the successful jobs of that run.
   */
  reuse?: Record<string, JobState>;
  /** The run this one re-runs, when it is a re-run. */
  rerunOf?: string;
  /** The repository and exact commit the run builds, and the event that started it (docs/triggers.md). */
  source?: RunSource;
}

/** A job's lifecycle (DESIGN.md §5). */
export type JobStatus = 'pending' | 'running' | 'retrying' | 'success' | 'failed' | 'cancelled' | 'skipped';

/** Why a job or step did not succeed. */
export type JobReason =
  | ExitReason
  | 'condition_false'
  | 'condition_error'
  | 'upstream_failed'
  | 'run_timed_out'
  | 'fail_fast'
  /** The job's child workflow was terminated (`temporal workflow terminate`). */
  | 'terminated'
  /** A deploy job's rollout was rolled back (the evidence is in the message). */
  | 'rolled_back'
  /** A deploy job's rollout failed (it could not start, or its rollback failed). */
  | 'deploy_failed'
  /** Artifacts (docs/artifacts.md): a declared path matched nothing, or an input object is gone. */
  | 'artifact_missing'
  /** An input artifact does not hash to its digest, even fetched again. */
  | 'artifact_corrupted'
  /** An input archive holds an entry that must not be extracted (or an output one that must not be packed). */
  | 'artifact_unsafe'
  /** The artifact store is at its critical level and refuses new content. */
  | 'store_full'
  /** A deploy job's `build_image` failed: no Dockerfile, a base image not on the engine, or a failing build. */
  | 'image_build_failed';

/** One step of a job, as the run sees it. */
export interface StepState {
  name: string;
  status: 'pending' | 'running' | 'retrying' | 'success' | 'failed' | 'cancelled' | 'timed_out' | 'skipped';
  attempts: number;
  exitCode?: number;
  reason?: JobReason;
  /** Failure message for infrastructure errors (never the script's output). */
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Last lines of output of a failed step. */
  logTail?: string[];
  /** The worker that ran the step's last attempt and the task queue it took it from: `pid@host (conveyor-docker.gpu)`. */
  worker?: string;
}

/** One job, as the run sees it. */
export interface JobState {
  status: JobStatus;
  /** The job's name as written, before matrix expansion. */
  baseName: string;
  /** The child workflow running the job, once started; query it for live step states. */
  workflowId?: string;
  /** How many times the whole job ran (job-level `retry_count`). */
  attempts?: number;
  /** True when a re-run took this job's result from the run it re-runs instead of running it. */
  reused?: boolean;
  reason?: JobReason;
  exitCode?: number;
  /** The failing step, when the job failed in one. */
  failedStep?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  steps: StepState[];
  /** The artifacts the job stored, by name: digests and sizes only (docs/artifacts.md). */
  artifacts?: Record<string, JobArtifact>;
  /** A deploy job's rollout (docs/deployments.md#the-deploy-job). */
  deployment?: JobDeployment;
}

/** What a deploy job requested and how its rollout ended. */
export interface JobDeployment {
  /** The deployment workflow (`deploy-<service>-<environment>`). */
  workflowId: string;
  service: string;
  environment: string;
  version: string;
  /** The rollout request's id: `<run id>/<job>`. */
  requestId: string;
  /** 0: rolling out now; n: n-th in the deployment's queue when it was accepted. */
  position?: number;
  outcome?: RolloutOutcome;
  evidence?: Evidence;
  /** The image `build_image` built and the rollout deployed (docs/deployments.md#building-the-image). */
  image?: BuiltImage;
}

/** An image a deploy job built from an artifact: its id, the tag pinned to it, and the context's digest. */
export interface BuiltImage {
  id: string;
  tag: string;
  /** The artifact the build context came from, and its digest. */
  context: { name: string; producer: string; digest: string };
}

/** The overall outcome of a run. */
export type RunStatus = 'running' | 'success' | 'failed' | 'cancelled';

/**
 * What the `status` query and the workflow result return (and, for a failed run, the details of its
 * `PipelineFailed` failure). Bounded in size (workflows/run-result.ts): a large run's result holds counts and the
 * jobs that did not succeed; its status comes by page.
 */
export interface PipelineRunStatus {
  pipeline: string;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  /** Jobs by name, in the pipeline's declaration order (all of them, unless `partial`). */
  jobs: Record<string, JobState>;
  /** The commit the run builds (docs/triggers.md). */
  source?: RunSource;
  /** The run's one source archive, once the worker has made it. */
  sourceArchive?: SourceArchive;
  /** Why the run has no source archive although it has a source (its checking-out jobs fail with it). */
  sourceError?: string;
  /** While the run waits for its turn in a concurrency group: the group. */
  waitingFor?: string;
  /** How many jobs are in each state (runs started before this field existed lack it). */
  counts?: Partial<Record<JobStatus, number>>;
  /** How many jobs the run has. */
  totalJobs?: number;
  /** True when `jobs` holds only some of the run's jobs (a summary, or one page of the status). */
  partial?: boolean;
  /** The `offset` of the status query's next page, when there is one. */
  nextOffset?: number;
  /** The incident a failed run opened or joined (docs/investigations.md). */
  incident?: string;
}

/** Which page of a run's status the `status` query returns: jobs from `offset` (default 0), at most `limit`. */
export interface StatusPageRequest {
  offset?: number;
  limit?: number;
}

/**
 * Live state of a run: job states, steps, attempts, exit codes and times. Without a request it returns the first
 * page, which is every job unless the run is very large; follow `nextOffset` for the rest.
 */
export const statusQuery = defineQuery<PipelineRunStatus, [StatusPageRequest?]>('status');

/** The failure type of a run whose pipeline failed; its details hold the run's result (a `PipelineRunStatus`). */
export const pipelineFailedType = 'PipelineFailed';

/** Live state of one job run as a `pipelineJob` child workflow: its steps, attempts, exit codes and times. */
export const jobStatusQuery = defineQuery<JobState>('jobStatus');
