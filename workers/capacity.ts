/**
 * What one worker process serves and how much of it at once (docs/operations.md, "Runner pools" and "Capacity"):
 * the runner pools it polls (`CONVEYOR_POOLS`), the container activities it runs at once per pool
 * (`CONVEYOR_MAX_CONCURRENT_STEPS`) and the workflow tasks it processes at once
 * (`CONVEYOR_MAX_CONCURRENT_WORKFLOW_TASKS`). A worker at capacity stops polling, so the task waits for another
 * worker of the pool.
 */
import { availableParallelism } from 'node:os';
import { parsePoolList } from '../pipeline/runner-pool';

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
}): WorkerCapacity {
  return {
    ...(env.CONVEYOR_ENGINE_ID ? { engineId: env.CONVEYOR_ENGINE_ID } : {}),
    pools: parsePoolList(env.CONVEYOR_POOLS),
    maxConcurrentSteps: env.CONVEYOR_MAX_CONCURRENT_STEPS ?? defaultMaxConcurrentSteps(),
    maxConcurrentWorkflowTasks: env.CONVEYOR_MAX_CONCURRENT_WORKFLOW_TASKS ?? 40,
  };
}
