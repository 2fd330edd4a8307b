/**
 * `pipelineJob`: one job of a large run as a child workflow of `pipelineRun`, so that the run's own history grows
 * by a few events per job rather than per step (docs/architecture.md, "Inline jobs or child workflows").
 */
import { setHandler } from '@temporalio/workflow';
import { runJob, type JobInput } from './job-runner';
import { jobStatusQuery, type JobState } from './pipeline-run-messages';

/** Runs one job to a final state and returns it; throws only when the job is cancelled. */
export async function pipelineJob(input: JobInput): Promise<JobState> {
  const state: JobState = { status: 'pending', baseName: input.job.baseName, steps: [] };
  setHandler(jobStatusQuery, () => state);
  await runJob(input, state);
  return state;
}
