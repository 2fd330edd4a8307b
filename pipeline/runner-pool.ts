/**
 * Runner pools (docs/operations.md, "Runner pools"): `runs_on: POOL` sends a job's container activities to the
 * Docker task queue of that pool, served only by workers started with the pool in `CONVEYOR_POOLS`. Like GitHub
 * Actions' self-hosted runner labels and GitLab runners' tags, a pool is just a name; a worker may serve several.
 *
 * Pure and workflow-safe (no zod; the schemas are in runner-pool-schema.ts): the workflows, the workers and the CLI
 * all name a pool's queue with `poolTaskQueue`.
 */

/** The pool of jobs that name none, and of workers that are not told which to serve. */
export const defaultPool = 'default';

/** Pool names: a letter or digit, then letters, digits, `_` or `-`; at most 63 characters. */
export const poolNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/;

/** How long a job's container work may wait for a worker of its pool before it fails with `no_runner`. */
export const queueTimeoutLimits = { min: 1, max: 86_400, default: 3600 } as const;

/**
 * The Docker task queue of `pool` under the workflow task queue `taskQueue`: `<taskQueue>-docker` for the default
 * pool (as before pools existed, so runs in flight keep their queue), `<taskQueue>-docker.<pool>` for the others.
 */
export function poolTaskQueue(taskQueue: string, pool: string | undefined): string {
  return !pool || pool === defaultPool ? `${taskQueue}-docker` : `${taskQueue}-docker.${pool}`;
}

/**
 * The Docker task queue of one Docker engine within a pool: `<pool queue>@<engine>`. Every worker of the pool that
 * uses that engine polls it too; a job's work after its first container activity goes there, so all its steps run
 * on the engine that holds its workspace volume (docs/operations.md, "A job stays on its Docker engine").
 */
export function engineTaskQueue(poolQueue: string, engineId: string): string {
  return `${poolQueue}@${engineId.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/** The pools a worker serves, from `CONVEYOR_POOLS` (comma-separated); throws one line on a bad name. */
export function parsePoolList(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [defaultPool];
  const pools = [...new Set(value.split(',').map((pool) => pool.trim()))];
  const bad = pools.find((pool) => !poolNamePattern.test(pool) || pool.length > 63);
  if (bad !== undefined) {
    throw new Error(
      `CONVEYOR_POOLS: '${bad}' is not a valid pool name; give a comma-separated list such as default,big-memory`,
    );
  }
  return pools;
}

/**
 * The engine queue of the worker that polled `queue`: `queue` itself when it is already that engine's queue, else
 * the engine's queue within the pool queue `queue` (a job's first step, sent to its pool, claims its engine this way).
 */
export function engineQueueOf(queue: string, engineId: string): string {
  const engineQueue = engineTaskQueue('', engineId);
  return queue.endsWith(engineQueue) ? queue : `${queue}${engineQueue}`;
}
