/**
 * What a run does around its jobs because of where it came from (docs/triggers.md): it records its source, reports
 * commit statuses (`pending` first, the outcome last), and takes its turn in its concurrency group.
 */
import { CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { createCommitStatusActivities, CommitState } from '../activities/source/commit-status';
import { runConcurrencyGroup } from '../pipeline/concurrency';
import type { PipelineRunInput, PipelineRunStatus, RunStatus } from './pipeline-run-messages';
import { awaitTurn, leaveGroup, type GroupTicket } from './concurrency';
import { archiveRunSource } from './job-source';

type CommitStatusActivities = ReturnType<typeof createCommitStatusActivities>;

/** What {@link beforeJobs} set up, for {@link afterRun}. */
export interface RunPreamble {
  /**
   * False when the run was cancelled before its first job (while it waited for its turn, or while its source was
   * archived): it must end without running a job.
   */
  admitted: boolean;
  ticket?: GroupTicket;
}

/** Records the source, posts `pending`, and waits for the run's turn in its concurrency group. */
export async function beforeJobs(
  input: PipelineRunInput,
  status: PipelineRunStatus,
  runId: string,
  stopped: () => boolean,
): Promise<RunPreamble> {
  if (input.source) status.source = input.source;
  const group = runConcurrencyGroup(input.pipeline, input.source, input.trigger);
  await reportCommitStatus(input, runId, 'pending', group ? `Waiting for its turn in ${group.group}` : 'Running');
  if (!group) return { admitted: await archiveUnlessCancelled(input, status, runId) };
  status.waitingFor = group.group;
  const { ticket, admitted } = await awaitTurn(group, runId, stopped);
  status.waitingFor = undefined;
  if (!admitted) return { admitted, ticket };
  await reportCommitStatus(input, runId, 'pending', 'Running');
  return { admitted: await archiveUnlessCancelled(input, status, runId), ticket };
}

/** Archives the source; false when the run was cancelled meanwhile (a newer push to its group, a person). */
async function archiveUnlessCancelled(input: PipelineRunInput, status: PipelineRunStatus, runId: string) {
  try {
    await archiveRunSource(input, status, runId);
    return true;
  } catch (error) {
    if (isCancellation(error)) return false;
    throw error;
  }
}

/** Leaves the concurrency group; call once the run's containers are gone. */
export async function releaseTurn(preamble: RunPreamble | undefined): Promise<void> {
  if (preamble?.ticket) await leaveGroup(preamble.ticket);
}

/** Posts the run's final commit status. */
export async function afterRun(
  input: PipelineRunInput,
  runId: string,
  outcome: RunStatus,
  detail: string,
): Promise<void> {
  const state: CommitState = outcome === 'success' ? 'success' : outcome === 'cancelled' ? 'cancelled' : 'failure';
  await reportCommitStatus(input, runId, state, detail);
}

/** One commit status for the run's commit; never fails the run (a provider outage must not fail builds). */
async function reportCommitStatus(
  input: PipelineRunInput,
  runId: string,
  state: CommitState,
  description: string,
): Promise<void> {
  const source = input.source;
  if (!source?.provider) return;
  const { postCommitStatus } = proxyActivities<CommitStatusActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 5 },
  });
  await CancellationScope.nonCancellable(() =>
    postCommitStatus({
      provider: source.provider!,
      commit: source.commit,
      state,
      description,
      context: `conveyor/${input.pipeline.name}`,
      runId,
      ...(source.branch || source.tag ? { ref: source.branch ?? source.tag } : {}),
    }).catch(() => undefined),
  );
}

/** The description of a finished run for its commit status: what failed, or that it passed. */
export function describeOutcome(status: PipelineRunStatus): string {
  if (status.status === 'success') return 'All jobs passed';
  if (status.status === 'cancelled') return 'Cancelled';
  const failed = Object.entries(status.jobs).filter(([, job]) => job.status === 'failed');
  if (failed.length === 0) return 'The run failed';
  const [name, job] = failed[0]!;
  const where = job.failedStep ? `job '${name}', step '${job.failedStep}'` : `job '${name}'`;
  const how =
    job.exitCode !== undefined ? ` exited with code ${job.exitCode}` : job.reason ? ` ${job.reason}` : ' failed';
  return `${where}${how}${failed.length > 1 ? ` (+${failed.length - 1} more)` : ''}`;
}
