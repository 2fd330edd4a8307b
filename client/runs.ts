/**
 * The client's view of runs: live status (the run's `status` query, enriched with each running job's steps from
 * its child workflow), the definition a run was started with, and listing from Temporal visibility.
 */
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import {
  jobStatusQuery,
  pipelineFailedType,
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
  const state = description.status.name;
  if (state === 'COMPLETED' || state === 'FAILED') {
    // A finished run's status is its result (or the details of its PipelineFailed failure): no worker needed.
    const final = await runOutcome(handle).catch(() => undefined);
    if (final) return final;
  }
  const status = await queryAllPages(handle);
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
  if (state !== 'RUNNING') status.status = state === 'CANCELLED' ? 'cancelled' : 'failed';
  return status;
}

/**
 * Waits for a run to end and returns its final status: the result of a run that succeeded (or, for runs started
 * before failed pipelines failed their workflow, one that failed), or the details of a failed pipeline's
 * `PipelineFailed` failure. Anything else — a cancel, a terminate — is rethrown.
 */
export async function runOutcome(handle: WorkflowHandle): Promise<PipelineRunStatus> {
  try {
    return (await handle.result()) as PipelineRunStatus;
  } catch (error) {
    const status = failedPipelineStatus(error);
    if (status) return status;
    throw error;
  }
}

/** The run status a failed pipeline's workflow failure carries, if `error` is that failure. */
export function failedPipelineStatus(error: unknown): PipelineRunStatus | undefined {
  if (!(error instanceof WorkflowFailedError)) return undefined;
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== pipelineFailedType) return undefined;
  return cause.details?.[0] as PipelineRunStatus | undefined;
}

/** Every page of a run's `status` query, merged into one status. */
async function queryAllPages(handle: WorkflowHandle): Promise<PipelineRunStatus> {
  const status = await handle.query(statusQuery);
  for (let next = status.nextOffset; next !== undefined;) {
    const page = await handle.query(statusQuery, { offset: next });
    Object.assign(status.jobs, page.jobs);
    next = page.nextOffset;
  }
  delete status.nextOffset;
  delete status.partial;
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
