/**
 * `conveyor status RUN` on a run that is still going: a notice when a queue its unfinished jobs need — a runner
 * pool's Docker queue above all — has no live worker, naming the pool and how to start a worker for it (the same
 * notice `conveyor run` gives; docs/operations.md, "Runner pools").
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { JobModel } from '../pipeline/model';
import { poolTaskQueue } from '../pipeline/runner-pool';
import type { PipelineRunInput, PipelineRunStatus } from '../workflows/pipeline-run-messages';
import { describePollers, runTaskQueues, unpolledQueues } from './task-queue-pollers';
import { noWorkerMessage } from './worker-check';

const finished = new Set(['success', 'failed', 'cancelled', 'skipped']);

/** The run's task queue and jobs, from its start event (the first page of its history, one event). */
async function startedWith(
  client: Client,
  namespace: string,
  runId: string,
): Promise<{ taskQueue: string; jobs: JobModel[] } | undefined> {
  const page = await client.workflowService.getWorkflowExecutionHistory({
    namespace,
    execution: { workflowId: runId },
    maximumPageSize: 1,
  });
  const started = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  const taskQueue = started?.taskQueue?.name;
  if (!payload || !taskQueue) return undefined;
  const input = defaultPayloadConverter.fromPayload<PipelineRunInput>(payload);
  return { taskQueue, jobs: input.pipeline?.jobs ?? [] };
}

/**
 * The notice for a running run whose unfinished jobs wait on a queue no live worker polls; `undefined` when every
 * queue it needs is served, or the run has ended. Never throws: it only informs.
 */
export async function runWorkerNotice(
  client: Client,
  config: { temporal: { namespace: string; address: string } },
  runId: string,
  status: PipelineRunStatus,
): Promise<string | undefined> {
  if (status.status !== 'running') return undefined;
  try {
    const run = await startedWith(client, config.temporal.namespace, runId);
    if (!run) return undefined;
    const waiting = run.jobs.filter((job) => !finished.has(status.jobs[job.name]?.status ?? 'pending'));
    if (waiting.length === 0) return undefined;
    const names = runTaskQueues(
      { taskQueues: { workflows: run.taskQueue, docker: poolTaskQueue(run.taskQueue, undefined) } },
      waiting,
    );
    const queues = await describePollers(client.connection, config.temporal.namespace, names);
    const unpolled = unpolledQueues(queues, Date.now());
    return unpolled.length > 0 ? noWorkerMessage(unpolled, config.temporal.address, Date.now()) : undefined;
  } catch {
    return undefined;
  }
}
