/**
 * A run's side of its concurrency group (docs/triggers.md, workflows/concurrency-group.ts): join the group —
 * signalling its coordinator, or starting it when there is none — wait for the turn, and leave at the end.
 */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { concurrencyGroupWorkflowId } from '../pipeline/concurrency';
import type { ConcurrencyGroupModel } from '../pipeline/model';
import {
  admittedSignal,
  concurrencyGroup,
  enterGroupSignal,
  groupCheckSignal,
  leaveGroupSignal,
  type GroupEntry,
} from './concurrency-group';

/** A run's membership of a group. */
export interface GroupTicket {
  group: string;
  workflowId: string;
  runId: string;
}

/**
 * Joins the group and waits until it is this run's turn, or until `stopped()` (the run was cancelled while
 * waiting). Returns the ticket to leave with, either way.
 */
export async function awaitTurn(
  group: ConcurrencyGroupModel,
  runId: string,
  stopped: () => boolean,
): Promise<{ ticket: GroupTicket; admitted: boolean }> {
  let admitted = false;
  setHandler(admittedSignal, () => {
    admitted = true;
  });
  setHandler(groupCheckSignal, () => undefined);
  const ticket = {
    group: group.group,
    workflowId: concurrencyGroupWorkflowId(group.group, workflowInfo().taskQueue),
    runId,
  };
  const entry: GroupEntry = {
    runId,
    cancelInProgress: group.cancelInProgress,
    startedAt: workflowInfo().startTime.getTime(),
  };
  // Joining must happen even when a cancel arrives meanwhile, so that the group hears of this run.
  await CancellationScope.nonCancellable(() => join(ticket.workflowId, group.group, entry));
  // The wait ends on a cancel through `stopped`, so that the run can end cleanly rather than be torn down here.
  await CancellationScope.nonCancellable(() => condition(() => admitted || stopped()));
  return { ticket, admitted };
}

/** Leaves the group; never fails the run (a group that has ended has nothing to release). */
export async function leaveGroup(ticket: GroupTicket): Promise<void> {
  await CancellationScope.nonCancellable(() =>
    getExternalWorkflowHandle(ticket.workflowId)
      .signal(leaveGroupSignal, { runId: ticket.runId })
      .catch(() => undefined),
  );
}

async function join(workflowId: string, group: string, entry: GroupEntry): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await getExternalWorkflowHandle(workflowId).signal(enterGroupSignal, entry);
      return;
    } catch (error) {
      // No open coordinator: start one below.
      if (attempt > 5) throw error;
    }
    try {
      const child = await startChild(concurrencyGroup, {
        workflowId,
        args: [{ group, first: entry }],
        // The coordinator outlives the run that happened to start it.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `concurrency group ${group}`,
      });
      child.result().catch(() => undefined);
      return;
    } catch (error) {
      // Another run started it meanwhile: signal that one.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }
}
