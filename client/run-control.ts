/**
 * Starting, re-running and cancelling runs: the operations the CLI and the HTTP API share, with errors that say
 * whether the run is unknown ({@link RunNotFoundError}) or in the wrong state ({@link RunStateError}).
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { ulid } from 'ulid';
import { slug } from '../activities/names';
import type { ConveyorConfig } from '../workers/config';
import type { JobState, PipelineRunInput } from '../workflows/pipeline-run-messages';
import { branchKey, commitKey, pipelineKey, statusKey, triggerKey } from '../workflows/search-attributes';
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
    await client.workflow.start('pipelineRun', runStartOptions(config, input, runId));
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
 * Starts a run whose workflow id is derived from something that must start at most one run — a webhook delivery
 * (docs/triggers.md). Temporal refuses the id while any run with it exists, open or closed, so a redelivery starts
 * nothing. Returns whether this call started it.
 */
export async function startRunOnce(
  client: Client,
  config: ConveyorConfig,
  input: PipelineRunInput,
  workflowId: string,
): Promise<boolean> {
  try {
    await client.workflow.start('pipelineRun', {
      ...runStartOptions(config, input, workflowId),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return true;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw error;
  }
}

/** How a run is started: its queue, id, input, search attributes (pipeline, status, trigger, commit, branch), memo. */
export function runStartOptions(
  config: ConveyorConfig,
  input: PipelineRunInput,
  workflowId: string,
): WorkflowStartOptions<(input: PipelineRunInput) => Promise<unknown>> {
  return {
    taskQueue: config.taskQueues.workflows,
    workflowId,
    args: [input],
    typedSearchAttributes: [
      { key: pipelineKey, value: input.pipeline.name },
      { key: statusKey, value: 'running' },
      { key: triggerKey, value: input.trigger },
      ...(input.source ? [{ key: commitKey, value: input.source.commit }] : []),
      ...(input.source?.branch ? [{ key: branchKey, value: input.source.branch }] : []),
    ],
    memo: { pipeline: input.pipeline.name, vars: input.vars },
    staticSummary: `pipeline ${input.pipeline.name}${input.source ? ` at ${input.source.commit.slice(0, 12)}` : ''}`,
  };
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
