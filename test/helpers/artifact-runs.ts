/** Running pipelines with artifacts on real workers, for the artifact integration tests. */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { parsePipeline } from '../../pipeline/parse-pipeline';
import type { PipelineModel } from '../../pipeline/model';
import {
  statusQuery,
  type JobState,
  type PipelineRunInput,
  type PipelineRunStatus,
} from '../../workflows/pipeline-run-messages';
import { fastOptions } from './runs';

/** Parses pipeline YAML (steps default to the busybox image); throws on any error. */
export function pipelineFrom(yaml: string): PipelineModel {
  const result = parsePipeline(yaml, { defaultImage: 'conveyor/busybox:latest' });
  if (!result.valid)
    throw new Error(result.errors.map((e) => `${e.line}:${e.column} ${e.code} ${e.message}`).join('\n'));
  return result.pipeline;
}

/** The input of a run of `pipeline`, with fast test options and (for re-runs) jobs to reuse. */
export function runInput(
  pipeline: PipelineModel,
  reuse?: Record<string, JobState>,
  rerunOf?: string,
): PipelineRunInput {
  const input: PipelineRunInput = {
    pipeline,
    vars: {},
    trigger: 'test',
    options: { ...fastOptions, heartbeatTimeoutSeconds: 10 },
  };
  if (reuse) input.reuse = reuse;
  if (rerunOf) input.rerunOf = rerunOf;
  return input;
}

/** The final status of a run, whether the workflow completed or failed (a failed pipeline may fail the workflow). */
export async function finalStatus(handle: WorkflowHandle): Promise<PipelineRunStatus> {
  try {
    return (await handle.result()) as PipelineRunStatus;
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    return handle.query(statusQuery);
  }
}
