/**
 * Starting, re-running and cancelling runs: the operations the CLI and the HTTP API share, with errors that say
 * whether the run is unknown ({@link RunNotFoundError}) or in the wrong state ({@link RunStateError}).
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { ulid } from 'ulid';
import { slug } from '../activities/names';
import type { ConveyorConfig } from '../workers/config';
import type { JobState, PipelineRunInput } from '../workflows/pipeline-run-messages';
import { pipelineKey, statusKey, triggerKey } from '../workflows/search-attributes';
import { RunStateError } from './run-errors';
import { describeRun, fetchRunInput, fetchRunStatus } from './runs';

/** A readable, unique workflow id: `run-<pipeline>-<ulid>`. */
export function newRunId(pipelineName: string): string {
  return `run-${slug(pipelineName)}-${ulid().toLowerCase()}`;
}

/**
 * Starts the run's workflow as `runId` on the configured task queue with its search attributes. A retried start
 * whose first attempt got through finds its own run already there, which is fine: the id is a fresh ulid.
 */
export async function startRunWorkflow(
  client: Client,
  config: ConveyorConfig,
  runId: string,
  input: PipelineRunInput,
): Promise<void> {
  try {
    await client.workflow.start('pipelineRun', {
      taskQueue: config.taskQueues.workflows,
      workflowId: runId,
      args: [input],
      typedSearchAttributes: [
        { key: pipelineKey, value: input.pipeline.name },
        { key: statusKey, value: 'running' },
        { key: triggerKey, value: input.trigger },
      ],
      memo: { pipeline: input.pipeline.name, vars: input.vars },
      staticSummary: `pipeline ${input.pipeline.name}`,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/** Starts a run under a new id; returns the id (the workflow id). */
export async function startRun(client: Client, config: ConveyorConfig, input: PipelineRunInput): Promise<string> {
  const runId = newRunId(input.pipeline.name);
  await startRunWorkflow(client, config, runId, input);
  return runId;
}

/**
 * The input of a re-run: the same definition and variable snapshot (a re-run of a re-run starts from the definition,
 * not from what the earlier re-run took over). With `failedOnly`, the finished run's successful jobs are taken over
 * and only the failed, cancelled and skipped ones run.
 */
export async function rerunInput(
  client: Client,
  runId: string,
  options: { failedOnly: boolean; trigger: string },
): Promise<PipelineRunInput> {
  const previous = await fetchRunInput(client, runId);
  const input: PipelineRunInput = { ...previous, trigger: options.trigger, rerunOf: runId, reuse: undefined };
  if (!options.failedOnly) return input;
  const status = await fetchRunStatus(client, runId);
  if (status.status === 'running') throw new RunStateError(`run '${runId}' is still running; wait for it or cancel it`);
  const reuse: Record<string, JobState> = Object.fromEntries(
    Object.entries(status.jobs).filter(([, job]) => job.status === 'success'),
  );
  if (Object.keys(reuse).length === Object.keys(status.jobs).length) {
    throw new RunStateError(`run '${runId}' has no failed or skipped jobs to re-run (re-run all of it instead)`);
  }
  return { ...input, reuse };
}

/** Requests cancellation of a running run (its jobs end `cancelled` once their containers are gone). */
export async function requestCancel(client: Client, runId: string): Promise<void> {
  const description = await describeRun(client, runId);
  if (description.status.name !== 'RUNNING') {
    throw new RunStateError(`run '${runId}' is not running (it is ${description.status.name.toLowerCase()})`);
  }
  await client.workflow.getHandle(runId).cancel();
}
