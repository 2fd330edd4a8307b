/**
 * The activity proxies workflows use, each with its timeouts and retry policy stated once (STYLE.md 7). Container
 * activities run on `<workflow task queue>-docker`, served only by workers on hosts with a Docker engine.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  TimeoutFailure,
  proxyActivities,
  workflowInfo,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import type { createDockerResourceActivities } from '../activities/docker-resources';
import type { createDockerStepActivities } from '../activities/docker-step';
import type { InvestigationActivities } from '../activities/investigation/activities';
import type { NarrativeActivities } from '../activities/investigation/narrate';
import { defaultPool, poolTaskQueue, queueTimeoutLimits } from '../pipeline/runner-pool';

type StepActivities = ReturnType<typeof createDockerStepActivities>;
type ResourceActivities = ReturnType<typeof createDockerResourceActivities>;

/**
 * A job whose workspace lives on one Docker engine: `hostQueue` is that engine's queue in the job's pool
 * (docs/operations.md, "A job stays on its Docker engine").
 */
export interface PinnedJob {
  pool?: string;
  hostQueue?: string;
}

/**
 * The Docker task queue of a job: its Docker engine's queue once it has one, else its runner pool's
 * (docs/operations.md, "Runner pools"); without either, the default pool's `<workflow task queue>-docker`.
 */
export function dockerQueue(job?: PinnedJob): string {
  return job?.hostQueue ?? poolTaskQueue(workflowInfo().taskQueue, job?.pool);
}

/**
 * Which Docker engine of the job's pool takes the job: any worker of the pool answers with its engine's queue.
 * It waits for a worker like any container activity (`queue_timeout`, then `no_runner`).
 */
export function engineClaimActivities(job: { pool?: string; queueTimeoutSeconds?: number }) {
  return proxyActivities<{ claimJobHost: () => Promise<{ queue: string }> }>({
    taskQueue: dockerQueue({ pool: job.pool }),
    scheduleToStartTimeout: queueTimeout(job),
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
  });
}

/**
 * How long a job's container activity may wait for a worker of its pool: Temporal's schedule-to-start timeout,
 * which is never retried, so the job then fails with `no_runner` (see `describeActivityFailure` in job-runner.ts).
 */
export function queueTimeout(job?: { queueTimeoutSeconds?: number }): string {
  return `${job?.queueTimeoutSeconds ?? queueTimeoutLimits.default} seconds`;
}

/**
 * `no_runner` when `error` is a container activity that no worker of the job's pool started within its
 * `queue_timeout`, with which pool and how to start a worker for it; `undefined` for any other failure.
 */
export function noRunnerFailure(
  error: unknown,
  job: PinnedJob & { queueTimeoutSeconds?: number },
): { reason: 'no_runner'; message: string } | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (!(cause instanceof TimeoutFailure) || cause.timeoutType !== 'SCHEDULE_TO_START') return undefined;
  const pool = job.pool ?? defaultPool;
  const seconds = job.queueTimeoutSeconds ?? queueTimeoutLimits.default;
  if (job.hostQueue) {
    return {
      reason: 'no_runner',
      message:
        `no worker on the Docker engine that holds the job's workspace (task queue '${job.hostQueue}') took its ` +
        `next step within its queue_timeout (${seconds} s); a job stays on its engine: start a worker of pool ` +
        `'${pool}' on that host, or re-run the job (docs/operations.md, "A job stays on its Docker engine")`,
    };
  }
  return {
    reason: 'no_runner',
    message:
      `no worker of pool '${pool}' took the job within its queue_timeout (${seconds} s; task queue ` +
      `'${dockerQueue(job)}'); start one with CONVEYOR_POOLS=${pool} (docs/operations.md, "Runner pools")`,
  };
}

/** Workspace, network and cleanup activities: short, idempotent, retried with backoff up to 10 times. */
export function resourceActivities(
  job?: PinnedJob & { queueTimeoutSeconds?: number },
): ActivityInterfaceFor<ResourceActivities> {
  return proxyActivities<ResourceActivities>({
    taskQueue: dockerQueue(job),
    // A pinned job's engine may be gone for good: then its workspace is the sweeper's (docs/operations.md).
    ...(job?.hostQueue ? { scheduleToStartTimeout: queueTimeout(job) } : {}),
    // Cleanup of a large run removes many containers and volumes, heartbeating as it goes.
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  });
}

/**
 * The step activity: it may take the step's whole timeout plus the grace period plus time to drain logs and clean
 * up (`startToCloseSeconds`), and must heartbeat within `heartbeatSeconds` — the time a crashed worker's step
 * waits before another worker adopts it.
 */
export function stepActivities(
  startToCloseSeconds: number,
  heartbeatSeconds: number,
  job?: { pool?: string; queueTimeoutSeconds?: number },
): ActivityInterfaceFor<StepActivities> {
  return proxyActivities<StepActivities>({
    taskQueue: dockerQueue(job),
    scheduleToStartTimeout: queueTimeout(job),
    startToCloseTimeout: `${startToCloseSeconds} seconds`,
    heartbeatTimeout: `${heartbeatSeconds} seconds`,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // Only infrastructure errors reach Temporal's retry: script failures come back as results.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
  });
}

/**
 * The investigation's light activities (frame, plan, report, index, open): they read Temporal and the stores, so a
 * minute is plenty; retried with backoff, since each is idempotent (it rewrites the same records).
 */
export function investigationActivities(): ActivityInterfaceFor<InvestigationActivities> {
  return proxyActivities<InvestigationActivities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  });
}

/**
 * The investigation's checks: on the Docker task queue, since some inspect images on the Docker host. A check
 * streams a step's whole log, heartbeating per batch.
 */
export function checkActivities(): ActivityInterfaceFor<InvestigationActivities> {
  return proxyActivities<InvestigationActivities>({
    taskQueue: dockerQueue(),
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  });
}

/**
 * The optional LLM narrative (docs/investigations.md, "Optional LLM narrative"): one request bounded by the
 * configured `timeout_seconds` (at most 300 s), so 6 minutes covers an attempt; three attempts with backoff for
 * transient failures (unreachable, timed out, 5xx), none for a refusal or an unusable answer (non-retryable).
 */
export function narrativeActivities(): ActivityInterfaceFor<NarrativeActivities> {
  return proxyActivities<NarrativeActivities>({
    startToCloseTimeout: '6 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
  });
}
