/** Running a pipeline on worker processes started by the test (runner pools, scale-out). */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { PipelineModel } from '../../pipeline/model';
import type { PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { finalStatus, runInput } from './artifact-runs';
import { closeTestEnvironment, terminateOpenWorkflows, testEnvironment } from './temporal';
import { startWorkerProcess, type WorkerProcess } from './worker-process';
import { removeRunResources } from './workspaces';

/** Starts `pipeline` as `runId` on `taskQueue`, waits for its end and asserts it succeeded; returns its status. */
export async function succeededRun(
  taskQueue: string,
  runId: string,
  pipeline: PipelineModel,
): Promise<PipelineRunStatus> {
  const env = await testEnvironment();
  const handle = await env.client.workflow.start('pipelineRun', {
    taskQueue,
    workflowId: runId,
    args: [runInput(pipeline)],
  });
  const status = await finalStatus(handle);
  assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));
  return status;
}

/**
 * Worker processes standing for separate hosts (each its own data directory, `CONVEYOR_WORKER_NAME` and
 * `CONVEYOR_ENGINE_ID`, so its own Docker engine as far as task queues go), for a test file: registers `before` and
 * `after` hooks that make a scratch directory and, at the end, terminate what is open on `queues`, stop the workers,
 * remove `runs`' Docker resources and the scratch directory.
 */
export function workerHosts(prefix: string) {
  let scratch = '';
  const workers: WorkerProcess[] = [];
  const queues: string[] = [];
  const runs: string[] = [];
  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), `conveyor-${prefix}-`));
  });
  after(async () => {
    const env = await testEnvironment();
    for (const queue of queues) await terminateOpenWorkflows(env.client, queue);
    for (const worker of workers) await worker.stop().catch(() => undefined);
    for (const runId of runs) await removeRunResources(runId);
    await closeTestEnvironment();
    await rm(scratch, { recursive: true, force: true });
  });
  return {
    queues,
    runs,
    /** A path in the scratch directory. */
    scratch: (name: string) => path.join(scratch, name),
    /** Starts the worker of host `name` on `taskQueue`. */
    start: async (taskQueue: string, name: string, env: Record<string, string> = {}): Promise<WorkerProcess> => {
      const worker = await startWorkerProcess(
        taskQueue,
        {
          CONVEYOR_DATA_DIR: path.join(scratch, name),
          CONVEYOR_WORKER_NAME: name,
          // Its own Docker engine, as far as task queues go (docs/operations.md, "A job stays on its Docker engine").
          CONVEYOR_ENGINE_ID: name,
          ...env,
        },
        300_000,
      );
      workers.push(worker);
      return worker;
    },
  };
}
