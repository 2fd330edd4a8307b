/**
 * A step whose worker stops (docs/runs.md, "Stopping a worker"). A worker told to stop lets running steps finish
 * within its shutdown grace; then Temporal's SDK cancels the activities still running, with `WORKER_SHUTDOWN` as
 * the reason. That is not the run's cancel: the step's container is left running, the attempt stops following it and
 * fails retryably, and the activity's next attempt adopts the container (docs/architecture.md, "Crash adoption") —
 * the script never runs twice.
 */
import type { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';

/** Whether the activity was cancelled because its worker is shutting down, rather than by the run or the server. */
export function cancelledByWorkerShutdown(ctx: Context): boolean {
  const signal = ctx.cancellationSignal;
  if (!signal.aborted) return false;
  if (ctx.cancellationDetails?.workerShutdown) return true;
  const reason: unknown = signal.reason;
  return reason instanceof CancelledFailure && reason.message === 'WORKER_SHUTDOWN';
}
