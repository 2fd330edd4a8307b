/**
 * Which workers poll Conveyor's task queues, from Temporal's DescribeTaskQueue: `dev up` and `dev status` use it to
 * verify the worker they started, `conveyor run` to say when no worker would pick its run up (docs/runs.md).
 */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { defaultPool, poolTaskQueue } from '../pipeline/runner-pool';

/**
 * A worker re-polls at least once a minute (the server holds a poll open for up to a minute), so one whose last
 * poll is older than this has stopped. The server itself lists a stopped worker for minutes after it stopped.
 */
export const livePollerWindowMs = 90_000;

/** One poller of a task queue. */
export interface Poller {
  /** The worker's identity (`pid@host` by default). */
  identity: string;
  /** When it last polled, as the server saw it. */
  lastPolledAt?: Date;
}

/** The queues a run needs: its workflows on `workflows`, its containers on `docker` (DESIGN.md §2). */
export interface TaskQueueNames {
  workflows: string;
  docker: string;
  /** The Docker queues of the run's other runner pools, by pool name (docs/operations.md, "Runner pools"). */
  pools?: Record<string, string>;
}

/** A queue, the kind of task it must be polled for, and its pollers. */
export interface QueuePollers {
  queue: string;
  kind: 'workflow' | 'activity';
  pollers: Poller[];
  /** The runner pool, for a pool's own Docker queue. */
  pool?: string;
}

const taskQueueTypes = {
  workflow: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  activity: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
} as const;

/** The pollers of the run's workflow queue (workflow tasks) and Docker queue (activity tasks). */
export async function describePollers(
  connection: Pick<Connection, 'workflowService'>,
  namespace: string,
  queues: TaskQueueNames,
): Promise<QueuePollers[]> {
  const wanted: Array<{ queue: string; kind: 'workflow' | 'activity'; pool?: string }> = [
    { queue: queues.workflows, kind: 'workflow' },
    { queue: queues.docker, kind: 'activity' },
    ...Object.entries(queues.pools ?? {}).map(([pool, queue]) => ({ queue, kind: 'activity' as const, pool })),
  ];
  return Promise.all(
    wanted.map(async ({ queue, kind, pool }) => {
      const response = await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: taskQueueTypes[kind],
      });
      const pollers = (response.pollers ?? []).map((poller) => ({
        identity: poller.identity ?? '',
        lastPolledAt: poller.lastAccessTime?.seconds
          ? new Date(
              Number(poller.lastAccessTime.seconds) * 1000 + Math.floor((poller.lastAccessTime.nanos ?? 0) / 1e6),
            )
          : undefined,
      }));
      return { queue, kind, pollers, ...(pool ? { pool } : {}) };
    }),
  );
}

/** Whether a poller polled recently enough to be a live worker. */
export function isLivePoller(poller: Poller, now: number): boolean {
  return poller.lastPolledAt !== undefined && now - poller.lastPolledAt.getTime() <= livePollerWindowMs;
}

/** The queues no live worker polls. */
export function unpolledQueues(queues: QueuePollers[], now: number): QueuePollers[] {
  return queues.filter((queue) => !queue.pollers.some((poller) => isLivePoller(poller, now)));
}

/** Whether the worker process `pid` polls every queue (its default identity is `pid@host`). */
export function pollsEveryQueue(queues: QueuePollers[], pid: number, now: number): boolean {
  return queues.every((queue) =>
    queue.pollers.some((poller) => poller.identity.startsWith(`${pid}@`) && isLivePoller(poller, now)),
  );
}

/** The queues a run needs: Conveyor's own, and the Docker queue of every other runner pool its jobs run on. */
export function runTaskQueues(
  config: { taskQueues: TaskQueueNames },
  jobs: ReadonlyArray<{ pool?: string }>,
): TaskQueueNames {
  const pools = [...new Set(jobs.flatMap((job) => (job.pool && job.pool !== defaultPool ? [job.pool] : [])))];
  if (pools.length === 0) return config.taskQueues;
  return {
    ...config.taskQueues,
    pools: Object.fromEntries(pools.map((pool) => [pool, poolTaskQueue(config.taskQueues.workflows, pool)])),
  };
}
