/**
 * The deployment activities as the deployment workflow calls them, each with its timeouts and retry policy
 * (STYLE.md 7). They run on `<task queue>-docker`, on the host whose Docker engine runs the service.
 */
import {
  ActivityCancellationType,
  proxyActivities,
  workflowInfo,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import type { DeploymentActivities } from '../activities/deployment';

type Activities = ActivityInterfaceFor<DeploymentActivities>;

function dockerQueue(): string {
  return `${workflowInfo().taskQueue}-docker`;
}

/** Errors no retry can fix: the workflow acts on them at once. */
const nonRetryable = [
  'ImageNotFoundError',
  'RouterPortTakenError',
  'RouteTableRejectedError',
  'InstanceNotRunningError',
  'PipelineConfigError',
];

/**
 * Short Docker and router operations (router, routes, instances, images): quick retries first — a rollback must
 * not wait — then backing off, for a minute or two of engine or router trouble.
 */
export function quickActivities(): Activities {
  return proxyActivities<DeploymentActivities>({
    taskQueue: dockerQueue(),
    startToCloseTimeout: '2 minutes',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '200 milliseconds',
      backoffCoefficient: 2,
      maximumInterval: '10 seconds',
      maximumAttempts: 12,
      nonRetryableErrorTypes: nonRetryable,
    },
  });
}

/**
 * Waiting activities (health gates, drains, measurements, smoke tests) heartbeat; a crashed worker's attempt is
 * retried elsewhere after `heartbeatSeconds`. `seconds` bounds one attempt. Cancelled waits are abandoned at once.
 */
export function waitingActivities(seconds: number, heartbeatSeconds = 20): Activities {
  return proxyActivities<DeploymentActivities>({
    taskQueue: dockerQueue(),
    startToCloseTimeout: `${Math.ceil(seconds)} seconds`,
    heartbeatTimeout: `${heartbeatSeconds} seconds`,
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '10 seconds',
      maximumAttempts: 5,
      nonRetryableErrorTypes: nonRetryable,
    },
  });
}
