/** The `runStep` activity's input and result: plain JSON that crosses Temporal (docs/architecture.md). */
import type { PullPolicy } from './docker-image-pull';
import type { ExitReason } from './exit-codes';

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
  /** `diskBytes`: the workspace's size limit (`resources.disk`), when the job sets one. */
  resources: { memoryBytes: number; cpus: number; diskBytes?: number };
  /** `none`, or the name of the run's isolated network. */
  networkMode: string;
  /** When the image is pulled (docs/runs.md, "Images and registries"); absent means `if_not_present`. */
  pullPolicy?: PullPolicy;
  /** Create the workspace volume first when it does not exist yet (the job's first step). */
  prepareWorkspace?: boolean;
  /** Remove the workspace volume when the step succeeds (the job's last step): saves the job a round trip. */
  removeWorkspaceOnSuccess?: boolean;
  /** Lines of output kept in the result for the workflow (default 20). */
  tailLines?: number;
  /**
   * The job's next step (its first attempt): its container is created, never started, while this step runs, so
   * the next activity only starts it (docs/benchmarks.md). Absent for a job's last step and in runs recorded before.
   */
  next?: RunStepInput;
  /**
   * The job's first step, sent to its pool's queue: whichever worker takes it claims the job for its Docker engine,
   * and the result names that engine's queue (`hostQueue`), where the job's later work goes (docs/operations.md,
   * "A job stays on its Docker engine"). Saves the job the separate `claimJobHost` round trip.
   */
  claimHost?: boolean;
  /**
   * An earlier attempt of this step ran on this engine (a claiming step whose retry reached another engine was sent
   * back here): look for that attempt's outcome or container first, as a retried activity does.
   */
  adopt?: boolean;
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
  /** The worker that returned this result (`pid@host`, or `CONVEYOR_WORKER_NAME`; docs/operations.md). */
  worker?: string;
  /** For a claiming step (`claimHost`): the task queue of the Docker engine that ran it, and now holds the job. */
  hostQueue?: string;
}
