/**
 * `concurrencyGroup`: one workflow per concurrency group (docs/triggers.md), so that runs of a group take turns
 * durably — across worker restarts, with no lock in any process. GitHub Actions semantics:
 *
 * - at most one run of the group runs; a run that joins while another runs waits;
 * - a run that joins replaces a run that is still waiting (the older waiting run is cancelled);
 * - with `cancel_in_progress`, a run that joins also cancels the running one, and starts once it has stopped (its
 *   containers removed);
 * - "newer" means started later (the run workflow's start time, assigned by Temporal in the order the runs were
 *   started), not joined later: a run that joins after a newer one (its worker was slower) is superseded at once,
 *   so three quick pushes always leave the last push running, whatever order their runs reach the group in.
 *
 * Runs join with `enterGroupSignal` and leave with `leaveGroupSignal` (whatever way they end); the group admits the
 * next run with `admittedSignal`. A run that vanished without leaving (terminated) is noticed by a periodic signal
 * that fails for a closed workflow. The group ends after it has been idle for a while and continues as new when
 * its history grows.
 */
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';

/** A run joining the group. */
export interface GroupEntry {
  runId: string;
  cancelInProgress: boolean;
  /** When the run's workflow started (epoch ms); absent in entries of runs from before it was recorded. */
  startedAt?: number;
}

/** What the group knows. */
export interface GroupState {
  group: string;
  running?: string;
  /** Runs waiting, oldest first (at most one once the group has settled). */
  waiting: string[];
  /** Runs the group asked to cancel (the running one, superseded waiting ones), until they leave. */
  cancelling: string[];
  /** The start time of the newest run that has joined (epoch ms). */
  newest?: number;
}

/** Input of `concurrencyGroup`. */
export interface ConcurrencyGroupInput {
  group: string;
  /** The state carried over a continue-as-new. */
  state?: GroupState;
  /** A run that joined by starting the group. */
  first?: GroupEntry;
  /** How long the group waits, idle, before it ends (default 60 s). */
  idleSeconds?: number;
  /** How often the running run is checked for having vanished (default 60 s). */
  checkSeconds?: number;
}

/** A run joins the group. */
export const enterGroupSignal = defineSignal<[GroupEntry]>('enterGroup');
/** A run leaves the group (it finished, failed or was cancelled). */
export const leaveGroupSignal = defineSignal<[{ runId: string }]>('leaveGroup');
/** Sent to a run: its turn has come. */
export const admittedSignal = defineSignal<[{ group: string }]>('concurrencyAdmitted');
/** Sent to the running run to check that it still exists; runs ignore it. */
export const groupCheckSignal = defineSignal('concurrencyCheck');
/** The group's state. */
export const groupStateQuery = defineQuery<GroupState>('groupState');

/** Coordinates one concurrency group. */
export async function concurrencyGroup(input: ConcurrencyGroupInput): Promise<void> {
  const state: GroupState = input.state ?? { group: input.group, waiting: [], cancelling: [] };
  const idleMs = (input.idleSeconds ?? 60) * 1000;
  const checkMs = (input.checkSeconds ?? 60) * 1000;
  const cancels: string[] = [];

  const enter = (entry: GroupEntry) => {
    if (state.running === entry.runId || state.waiting.includes(entry.runId)) return;
    if (entry.startedAt !== undefined && state.newest !== undefined && entry.startedAt < state.newest) {
      // Older than a run that already joined: superseded before it was ever admitted.
      cancels.push(entry.runId);
      return;
    }
    if (entry.startedAt !== undefined) state.newest = entry.startedAt;
    // A newer run supersedes every run still waiting; with cancel_in_progress, the running one too.
    for (const superseded of state.waiting) cancels.push(superseded);
    state.waiting = [entry.runId];
    if (entry.cancelInProgress && state.running && !state.cancelling.includes(state.running))
      cancels.push(state.running);
  };
  const leave = (runId: string) => {
    if (state.running === runId) state.running = undefined;
    state.waiting = state.waiting.filter((id) => id !== runId);
    state.cancelling = state.cancelling.filter((id) => id !== runId);
  };
  setHandler(enterGroupSignal, enter);
  setHandler(leaveGroupSignal, ({ runId }) => leave(runId));
  setHandler(groupStateQuery, () => state);
  if (input.first) enter(input.first);

  for (;;) {
    const canAdmit = () => !state.running && state.waiting.length > 0;
    const idle = () => !state.running && state.waiting.length === 0;
    const woke = await condition(() => cancels.length > 0 || canAdmit(), idle() ? idleMs : checkMs);
    for (const runId of cancels.splice(0)) {
      if (!state.cancelling.includes(runId)) state.cancelling.push(runId);
      // A run that has already ended cannot be cancelled; it leaves (or has left) by itself.
      await getExternalWorkflowHandle(runId)
        .cancel()
        .catch(() => leave(runId));
    }
    if (canAdmit()) {
      const next = state.waiting.shift()!;
      state.running = next;
      await getExternalWorkflowHandle(next)
        .signal(admittedSignal, { group: state.group })
        .catch(() => leave(next));
    } else if (!woke) {
      if (idle() && cancels.length === 0) return;
      const running = state.running;
      if (running) {
        await getExternalWorkflowHandle(running)
          .signal(groupCheckSignal)
          .catch(() => leave(running));
      }
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 5000) {
      return continueAsNew<typeof concurrencyGroup>({ ...input, first: undefined, state });
    }
  }
}
