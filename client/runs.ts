/**
 * The client's view of runs: live status (the run's `status` query, enriched with each running job's steps from
 * its child workflow), the definition a run was started with, and listing from Temporal visibility.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  jobStatusQuery,
  statusQuery,
  type PipelineRunInput,
  type PipelineRunStatus,
} from '../workflows/pipeline-run-messages';
import { CliError } from './cli-error';
import { RunNotFoundError } from './run-errors';

/** The live (or final) status of a run, with step detail for jobs still running. */
export async function fetchRunStatus(client: Client, runId: string): Promise<PipelineRunStatus> {
  const handle = client.workflow.getHandle(runId);
  const description = await describeRun(client, runId);
  if (description.status.name === 'COMPLETED') return (await handle.result()) as PipelineRunStatus;
  const status = await handle.query(statusQuery);
  await Promise.all(
    Object.values(status.jobs).map(async (job) => {
      if (!job.workflowId || (job.status !== 'running' && job.status !== 'retrying')) return;
      try {
        const live = await client.workflow.getHandle(job.workflowId).query(jobStatusQuery);
        Object.assign(job, {
          steps: live.steps,
          attempts: live.attempts,
          status: live.status,
          startedAt: live.startedAt,
          finishedAt: live.finishedAt,
        });
      } catch {
        // The child may not have started its first task yet; the job-level state is still right.
      }
    }),
  );
  if (description.status.name !== 'RUNNING')
    status.status = description.status.name === 'CANCELLED' ? 'cancelled' : 'failed';
  return status;
}

/** Describes a run, or throws a RunNotFoundError naming it when it does not exist. */
export async function describeRun(client: Client, runId: string) {
  try {
    return await client.workflow.getHandle(runId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new RunNotFoundError(runId);
    throw error;
  }
}

/** The input a run was started with, read from the first event of its history. */
export async function fetchRunInput(client: Client, runId: string): Promise<PipelineRunInput> {
  await describeRun(client, runId);
  const history = await client.workflow.getHandle(runId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new CliError(`run '${runId}' has no recorded input; it cannot be re-run`);
  return defaultPayloadConverter.fromPayload<PipelineRunInput>(payload);
}

/** One row of `conveyor list`. */
export interface RunListing {
  runId: string;
  pipeline: string;
  status: string;
  /** What started it: `cli`, `rerun`, `api:alice`, a ref. */
  trigger: string;
  startTime: string;
  closeTime?: string;
}

/** Lists runs from Temporal visibility, newest first. */
export async function listRuns(
  client: Client,
  filters: { pipeline?: string; status?: string; limit: number },
): Promise<RunListing[]> {
  const clauses = [`WorkflowType = 'pipelineRun'`];
  if (filters.pipeline) clauses.push(`ConveyorPipeline = '${escapeQuery(filters.pipeline)}'`);
  if (filters.status) clauses.push(`ConveyorStatus = '${escapeQuery(filters.status)}'`);
  const rows: RunListing[] = [];
  for await (const execution of client.workflow.list({ query: clauses.join(' AND ') })) {
    const attributes = execution.typedSearchAttributes;
    const pipeline = attributes.getAll().find((pair) => pair.key.name === 'ConveyorPipeline')?.value;
    const status = attributes.getAll().find((pair) => pair.key.name === 'ConveyorStatus')?.value;
    const trigger = attributes.getAll().find((pair) => pair.key.name === 'ConveyorTrigger')?.value;
    rows.push({
      runId: execution.workflowId,
      pipeline: String(pipeline ?? ''),
      status: String(status ?? execution.status.name.toLowerCase()),
      trigger: String(trigger ?? ''),
      startTime: execution.startTime.toISOString(),
      closeTime: execution.closeTime?.toISOString(),
    });
    if (rows.length >= filters.limit) break;
  }
  return rows;
}

function escapeQuery(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}
