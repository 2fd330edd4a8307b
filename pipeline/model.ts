/**
 * The validated, normalised pipeline model that everything after parsing works on.
 *
 * The parser (`parsePipeline`) turns YAML into this shape once, at the edge; workflows and activities only ever
 * see already-valid objects. Every type here is plain JSON (no classes, no Maps) so it can cross Temporal as a
 * workflow argument and be recorded in history.
 */

import type { DeploySpec } from '../deploy/spec';
import type { RetentionPolicy } from './retention-policy';

/** A problem found in a pipeline file, located precisely enough for an editor to jump to it. */
export interface Diagnostic {
  /** Stable machine-readable code, e.g. `unknown_dependency` (see docs/pipeline-syntax.md). */
  code: string;
  /** What is wrong, naming the offending value. */
  message: string;
  /** 1-based line of the offending node (1 when the problem has no better location). */
  line: number;
  /** 1-based column of the offending node. */
  column: number;
  /** Path of the offending node, e.g. `jobs.build.steps[0].image`; empty for the whole document. */
  path: string;
  /** How to fix it. */
  hint?: string;
}

/** A step as it will run: one container. */
export interface StepModel {
  /** Unique within its job. */
  name: string;
  /**
   * Shell commands, run in order with `set -e` semantics. Every string of a step (script, image, environment,
   * working directory) is a template: run-time references (`${CONVEYOR_RUN_ID}`, `${secrets.NAME}`) and `$${`
   * escapes remain, and `resolveRunTimeVariables` turns it into the final text when the step starts.
   */
  script: string[];
  /** Image reference, e.g. `conveyor/node:20`. */
  image: string;
  /** When the image is pulled; absent means `if_not_present` (docs/runs.md, "Images and registries"). */
  pullPolicy?: 'if_not_present' | 'always' | 'never';
  /** Step-level environment (highest precedence below runtime variables). */
  environment: Record<string, string>;
  /** Working directory inside the container. Default `/workspace`. */
  workingDirectory: string;
  /** Seconds, 1–1800, default 1800. */
  timeoutSeconds: number;
  /** Retries after the first attempt, 0–3, default 0. */
  retryCount: number;
  /** Exit codes that count as transient and are retried (within `retryCount`). */
  retryOn: number[];
  /** When true a failing step does not fail its job. */
  continueOnFailure: boolean;
}

/** Files a job hands to its dependents. */
export interface ArtifactModel {
  name: string;
  /** Workspace-relative paths or globs. */
  paths: string[];
  when: 'on_success' | 'always';
  /** May match nothing; then nothing is stored (otherwise that fails the job with `artifact_missing`). */
  optional?: boolean;
}

/** A job after matrix expansion. */
export interface JobModel {
  /** Unique job name; matrix jobs are named `test (node=18, os=a)`. */
  name: string;
  /** Names of the (expanded) jobs this one waits for. */
  dependsOn: string[];
  /** Job-level environment. */
  environment: Record<string, string>;
  /** Seconds, 1–3600, default 3600. */
  timeoutSeconds: number;
  /** Retries of the whole job after the first attempt, 0–5, default 0. */
  retryCount: number;
  /** The `if:` expression source, evaluated by the run workflow when the job becomes ready. */
  if?: string;
  /** The matrix values of this expansion, when the job came from a matrix. */
  matrix?: Record<string, string | number | boolean>;
  /** The name of the job as written, before matrix expansion. */
  baseName: string;
  /** Container limits for every step of the job. */
  /** `diskBytes`: the workspace's size limit (`resources.disk`), absent when unlimited. */
  resources: { memoryBytes: number; cpus: number; diskBytes?: number };
  /**
   * `isolated` (the run's internal network, no route outside the host; the default), `egress` (the run's bridge
   * network with outbound access, for `npm ci` or `pip install`) or `none`.
   */
  network: 'isolated' | 'egress' | 'none';
  artifacts: ArtifactModel[];
  /** The (expanded) dependencies whose artifacts this job receives; undefined means all of them. */
  artifactsFrom?: string[];
  steps: StepModel[];
  /** How the expansions of a matrix job run together; present only on matrix expansions. */
  strategy?: MatrixStrategyModel;
  /** A deploy job's rollout (docs/deployments.md#the-deploy-job); such a job has no steps. */
  deploy?: DeploySpec;
  /** Where the run's sources go in this job's workspace; `false`: none (absent: /workspace, no history). */
  checkout?: CheckoutModel | false;
  /** The runner pool (`runs_on`) when not the default one (docs/operations.md, "Runner pools"). */
  pool?: string;
  /** `queue_timeout` in seconds when written (default 3600): the wait for a worker of the pool before `no_runner`. */
  queueTimeoutSeconds?: number;
}

/** How the expansions of one matrix job run together. */
export interface MatrixStrategyModel {
  /** At most this many expansions of the job run at once; undefined means unbounded. */
  maxParallel?: number;
  /** When one expansion fails, cancel the others still pending or running. Default true. */
  failFast: boolean;
}

/** Branch or tag globs, with a leading `!` to exclude (docs/triggers.md). */
export interface RefTriggerModel {
  branches?: string[];
  branches_ignore?: string[];
  tags?: string[];
  tags_ignore?: string[];
  paths?: string[];
  paths_ignore?: string[];
}

/** A `pull_request` trigger. */
export interface PullRequestTriggerModel {
  branches?: string[];
  branches_ignore?: string[];
  types?: Array<'opened' | 'synchronize' | 'reopened' | 'closed' | 'edited' | 'ready_for_review'>;
  paths?: string[];
  paths_ignore?: string[];
}

/** One `schedule` entry. */
export interface ScheduleTriggerModel {
  cron: string;
  branch?: string;
  timezone?: string;
  overlap?: string;
}

/** One input of a manual run. */
export interface ManualInputModel {
  description?: string;
  default?: string | number | boolean;
  required?: boolean;
  options?: Array<string | number | boolean>;
}

/** What starts the pipeline, as written (docs/triggers.md). */
export interface TriggersModel {
  push?: RefTriggerModel;
  pull_request?: PullRequestTriggerModel;
  schedule?: ScheduleTriggerModel[];
  manual?: { inputs?: Record<string, ManualInputModel> };
}

/** A concurrency group: runs in it take turns (GitHub Actions semantics, docs/triggers.md). */
export interface ConcurrencyGroupModel {
  /** The group's name, variables resolved. */
  group: string;
  /** A newer run cancels the running one; otherwise it waits (and replaces an older waiting run). */
  cancelInProgress: boolean;
}

/** Where a job's sources go, and how much git history comes with them. */
export interface CheckoutModel {
  /** Directory under /workspace, `''` for /workspace itself. */
  path: string;
  /** Commits of history in a `.git` beside the sources (0: all); absent: no `.git`. */
  depth?: number;
}

/** A whole pipeline, validated and expanded. */
export interface PipelineModel {
  name: string;
  /** Run-level timeout in seconds, default 7200. */
  timeoutSeconds: number;
  globalEnv: Record<string, string>;
  /** Jobs in declaration order (matrix expansions in place of their job). */
  jobs: JobModel[];
  /** How many jobs may run at once across the run; undefined means unbounded. */
  maxParallel?: number;
  /** The runtime variables (`--var`) the pipeline was parsed with: record them to re-run identically. */
  variables?: Record<string, string>;
  /** What starts the pipeline. */
  triggers?: TriggersModel;
  /** The run's concurrency group, when it has one. */
  concurrency?: ConcurrencyGroupModel;
  /** Whether the run's source archive includes submodules. */
  submodules?: boolean;
  /** Deployment targets, as written (variables resolved). */
  deploy?: Record<string, unknown>;
  /** The pipeline's own artifact retention policies (`artifacts.retention`), normalised. */
  artifactRetention?: RetentionPolicy[];
}
