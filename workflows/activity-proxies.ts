/**
 * The activity proxies workflows use, each with its timeouts and retry policy stated once (STYLE.md 7). Container
 * activities run on `<workflow task queue>-docker`, served only by workers on hosts with a Docker engine.
 */
import {
  ActivityCancellationType,
  proxyActivities,
  workflowInfo,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import type { createDockerResourceActivities } from '../activities/docker-resources';
import type { createDockerStepActivities } from '../activities/docker-step';
import type { InvestigationActivities } from '../activities/investigation/activities';

type StepActivities = ReturnType<typeof createDockerStepActivities>;
type ResourceActivities = ReturnType<typeof createDockerResourceActivities>;

function dockerQueue(): string {
  return `${workflowInfo().taskQueue}-docker`;
}

/** Workspace, network and cleanup activities: short, idempotent, retried with backoff up to 10 times. */
export function resourceActivities(): ActivityInterfaceFor<ResourceActivities> {
  return proxyActivities<ResourceActivities>({
    taskQueue: dockerQueue(),
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
): ActivityInterfaceFor<StepActivities> {
  return proxyActivities<StepActivities>({
    taskQueue: dockerQueue(),
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
