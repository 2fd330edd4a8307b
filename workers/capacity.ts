/**
 * What one worker process serves and how much of it at once (docs/operations.md, "Runner pools" and "Capacity"):
 * the runner pools it polls (`CONVEYOR_POOLS`), the container activities it runs at once per pool
 * (`CONVEYOR_MAX_CONCURRENT_STEPS`) and the workflow tasks it processes at once
 * (`CONVEYOR_MAX_CONCURRENT_WORKFLOW_TASKS`). A worker at capacity stops polling, so the task waits for another
 * worker of the pool. Also how long a stopping worker waits for its running steps (`CONVEYOR_WORKER_SHUTDOWN_GRACE`;
 * docs/runs.md, "Stopping a worker").
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseDuration } from '../pipeline/duration';
import { parsePoolList } from '../pipeline/runner-pool';

/** How long a stopping worker waits for running steps by default, in seconds (as Kubernetes' termination grace). */
export const defaultShutdownGraceSeconds = 30;

/** `CONVEYOR_WORKER_SHUTDOWN_GRACE`: seconds, or a duration such as `90s` or `5m`; at most a day. */
export const shutdownGraceSchema = z.string().transform((value, ctx) => {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds > 86_400) {
    ctx.addIssue({
      code: 'custom',
      message: `expected seconds or a duration such as 30s or 5m (at most 24h), got '${value}'`,
    });
    return z.NEVER;
  }
  return seconds;
});

/** A worker's pools and slots. */
export interface WorkerCapacity {
  pools: string[];
  /** Concurrent container activities (steps, checkouts, transfers) per pool. */
  maxConcurrentSteps: number;
  /** Concurrent workflow tasks. */
  maxConcurrentWorkflowTasks: number;
  /**
   * The Docker engine's identity in task queue names (`CONVEYOR_ENGINE_ID`; default the engine's own ID from
   * `docker info`). Set it only where engines share an ID, such as hosts cloned from one disk image.
   */
  engineId?: string;
  /**
   * Seconds a stopping worker lets running steps finish before leaving them to be adopted
   * (`CONVEYOR_WORKER_SHUTDOWN_GRACE`, default 30; docs/runs.md, "Stopping a worker").
   */
  shutdownGraceSeconds: number;
}

/**
 * Steps mostly wait on their containers, so the default is a multiple of the host's CPUs: 8 per CPU, at least 16.
 * Workflow tasks are short CPU bursts: Temporal's default of 40 slots.
 */
export function defaultMaxConcurrentSteps(cpus = availableParallelism()): number {
  return Math.max(16, 8 * cpus);
}

/** The capacity from the environment's (already validated) values. */
export function workerCapacity(env: {
  CONVEYOR_POOLS?: string;
  CONVEYOR_MAX_CONCURRENT_STEPS?: number;
  CONVEYOR_MAX_CONCURRENT_WORKFLOW_TASKS?: number;
  CONVEYOR_ENGINE_ID?: string;
  CONVEYOR_WORKER_SHUTDOWN_GRACE?: number;
}): WorkerCapacity {
  return {
    ...(env.CONVEYOR_ENGINE_ID ? { engineId: env.CONVEYOR_ENGINE_ID } : {}),
    pools: parsePoolList(env.CONVEYOR_POOLS),
    maxConcurrentSteps: env.CONVEYOR_MAX_CONCURRENT_STEPS ?? defaultMaxConcurrentSteps(),
    maxConcurrentWorkflowTasks: env.CONVEYOR_MAX_CONCURRENT_WORKFLOW_TASKS ?? 40,
    shutdownGraceSeconds: env.CONVEYOR_WORKER_SHUTDOWN_GRACE ?? defaultShutdownGraceSeconds,
  };
}
