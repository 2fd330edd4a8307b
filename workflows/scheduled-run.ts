/**
 * `scheduledRun`: what a pipeline's Temporal Schedule starts (docs/triggers.md). It resolves the schedule's branch
 * to its latest commit and reads the pipeline there (an activity), then runs it as a `pipelineRun` child and waits
 * for it, so that the schedule's overlap policy (skip by default) sees a run in progress.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { createSourceActivities, ScheduledRunInput } from '../activities/source/source-activities';
import type { createCommitStatusActivities } from '../activities/source/commit-status';
import { pipelineRun } from './pipeline-run';
import { branchKey, commitKey, pipelineKey, statusKey, triggerKey } from './search-attributes';

type SourceActivities = ReturnType<typeof createSourceActivities>;
type CommitStatusActivities = ReturnType<typeof createCommitStatusActivities>;

/** Result of a scheduled run: the run it started, and how it ended. */
export interface ScheduledRunResult {
  runId: string;
  status: string;
}

/** Runs the scheduled pipeline at its branch's latest commit. */
export async function scheduledRun(input: ScheduledRunInput): Promise<ScheduledRunResult> {
  const { prepareScheduledRun } = proxyActivities<SourceActivities>({
    taskQueue: `${workflowInfo().taskQueue}-docker`,
    startToCloseTimeout: '10 minutes',
    retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
  });
  let prepared;
  try {
    prepared = await prepareScheduledRun(input);
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : undefined;
    const details =
      cause instanceof ApplicationFailure ? (cause.details?.[0] as { commit?: string } | undefined) : undefined;
    if (input.provider && details?.commit && cause instanceof Error) {
      // An invalid pipeline at the branch's head: say so on the commit, as a push would.
      const { postCommitStatus } = proxyActivities<CommitStatusActivities>({
        startToCloseTimeout: '30 seconds',
        retry: { maximumAttempts: 5 },
      });
      await postCommitStatus({
        provider: input.provider,
        commit: details.commit,
        state: 'failure',
        description: cause.message,
        context: `conveyor/${input.pipeline}`,
        ref: input.branch,
      }).catch(() => undefined);
    }
    throw error;
  }
  const runId = workflowInfo().workflowId.replace(/^scheduled-/, 'run-');
  const { source } = prepared.input;
  const child = await startChild(pipelineRun, {
    workflowId: runId,
    args: [prepared.input],
    typedSearchAttributes: [
      { key: pipelineKey, value: prepared.input.pipeline.name },
      { key: statusKey, value: 'running' },
      { key: triggerKey, value: prepared.input.trigger },
      ...(source ? [{ key: commitKey, value: source.commit }] : []),
      ...(source?.branch ? [{ key: branchKey, value: source.branch }] : []),
    ],
    memo: { pipeline: prepared.input.pipeline.name, vars: {} },
    staticSummary: `pipeline ${prepared.input.pipeline.name}${source ? ` at ${source.commit.slice(0, 12)}` : ''}`,
  });
  try {
    const status = await child.result();
    return { runId, status: status.status };
  } catch {
    // The run's own status says what went wrong; the schedule only needs to know it is over.
    return { runId, status: 'failed' };
  }
}
