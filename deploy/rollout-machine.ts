/**
 * The rollout state machine (DEP-002, docs/deployments.md#the-rollout-state-machine): given a plan, where the
 * rollout stands and an event, where it stands next. Pure and deterministic — time comes in as `now` — so it is
 * tested without Temporal and replays identically; the workflow runs whatever task it names and feeds back what
 * happened, the way Argo Rollouts keeps its reconcile steps apart from its controller loop.
 */
import type { Measurement } from './analysis';
import type { AnalysisSpec } from './spec';
import { describeStep, type RolloutPlan } from './rollout-plan';

/** The states of DESIGN.md §7. */
export type DeployState =
  | 'pending'
  | 'preparing'
  | 'deploying'
  | 'validating'
  | 'awaiting_approval'
  | 'paused'
  | 'complete'
  | 'failed'
  | 'rolling_back'
  | 'rolled_back';

/** What made a rollout roll back: which check, and what it saw. */
export interface Evidence {
  /** `background analysis`, `analysis (step 4)`, `health check`, `approval gate 'prod'`, `smoke test`, `abort` … */
  source: string;
  /** The failing measurement: every metric, its value, stable's value, the thresholds and the window. */
  measurement?: Measurement;
  /** The instance a health check failed on. */
  instance?: string;
  /** Anything else: a health check's message, a smoke test's exit code and output. */
  detail?: string;
}

/** How a rollout ended. */
export type RolloutOutcome = 'complete' | 'rolled_back' | 'failed';

/** What the workflow should be doing now. */
export type RolloutTask =
  /** Run plan step `index`; a timed pause ends at `until`, a gate times out at `deadline` (ISO). */
  | { kind: 'step'; index: number; until?: string; deadline?: string }
  /** Held for a human (`pause`, or too many inconclusive measurements); `resume` continues at step `resumeAt`. */
  | { kind: 'hold'; reason: string; by: string; resumeAt: number }
  /** Send all traffic back to stable and remove the new revision. */
  | { kind: 'rollback'; reason: string; evidence?: Evidence }
  | { kind: 'done'; outcome: RolloutOutcome; reason?: string; evidence?: Evidence };

/** Where a rollout stands. Plain JSON: carried across continue-as-new as is. */
export interface RolloutProgress {
  task: RolloutTask;
  /** Changes whenever the task does: results of an earlier task are recognised as stale and ignored. */
  taskId: number;
  /** The background analysis that runs now, if any. */
  analysing: AnalysisSpec | null;
  /** Set by `pause`: the next step waits for `resume`. */
  held: { by: string; reason: string } | null;
}

/** Something that happened to a rollout. */
export type RolloutEvent =
  | { type: 'step_done'; taskId: number }
  | { type: 'step_failed'; taskId: number; reason: string; evidence?: Evidence }
  /** Too many inconclusive measurements: of an analysis step (with its taskId) or the background analysis. */
  | { type: 'inconclusive'; taskId?: number; reason: string }
  /** The background analysis or health watch failed. */
  | { type: 'check_failed'; reason: string; evidence?: Evidence }
  | { type: 'gate_decided'; taskId: number; approved: boolean; reason: string }
  | { type: 'promote'; user: string; full: boolean }
  | { type: 'abort'; user: string; reason?: string }
  | { type: 'pause'; user: string }
  | { type: 'resume'; user: string }
  | { type: 'rollback_done'; taskId: number }
  | { type: 'rollback_failed'; taskId: number; reason: string };

/** A control a person sends to a rollout. */
export type RolloutControl = Extract<RolloutEvent, { type: 'promote' | 'abort' | 'pause' | 'resume' }>;

/** The progress of a rollout that has not started its first step. */
export function startRollout(plan: RolloutPlan, now: number): RolloutProgress {
  return enterStep(plan, { task: { kind: 'step', index: -1 }, taskId: 0, analysing: null, held: null }, 0, now);
}

function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}

/** Moves to step `index` (running instant steps on the way), or to `hold` when a person paused the rollout. */
function enterStep(plan: RolloutPlan, progress: RolloutProgress, index: number, now: number): RolloutProgress {
  let analysing = progress.analysing;
  let next = index;
  while (next < plan.steps.length && plan.steps[next]!.kind === 'begin_analysis') {
    const step = plan.steps[next] as { kind: 'begin_analysis'; analysis: AnalysisSpec };
    analysing = step.analysis;
    next += 1;
  }
  const taskId = progress.taskId + 1;
  if (next >= plan.steps.length) {
    return { ...progress, analysing: null, taskId, task: { kind: 'done', outcome: 'complete' } };
  }
  if (progress.held) {
    return {
      ...progress,
      analysing,
      taskId,
      task: { kind: 'hold', reason: progress.held.reason, by: progress.held.by, resumeAt: next },
    };
  }
  const step = plan.steps[next]!;
  const task: RolloutTask = { kind: 'step', index: next };
  if (step.kind === 'pause' && step.seconds !== undefined) task.until = isoAt(now + step.seconds * 1000);
  if (step.kind === 'approval') task.deadline = isoAt(now + step.gate.timeoutSeconds * 1000);
  // The final promotion moves all traffic to the new revision: a comparison with stable means nothing from here.
  if (step.kind === 'promote') analysing = null;
  return { ...progress, analysing, taskId, task };
}

function rollback(progress: RolloutProgress, reason: string, evidence?: Evidence): RolloutProgress {
  return { ...progress, analysing: null, taskId: progress.taskId + 1, task: { kind: 'rollback', reason, evidence } };
}

function finished(progress: RolloutProgress): boolean {
  return progress.task.kind === 'done' || progress.task.kind === 'rollback';
}

/** The next progress after `event`; events meant for an earlier task are ignored. */
export function advanceRollout(
  plan: RolloutPlan,
  progress: RolloutProgress,
  event: RolloutEvent,
  now: number,
): RolloutProgress {
  const { task } = progress;
  if (task.kind === 'done') return progress;
  const current = 'taskId' in event && event.taskId !== undefined && event.taskId === progress.taskId;
  switch (event.type) {
    case 'step_done':
      return current && task.kind === 'step' ? enterStep(plan, progress, task.index + 1, now) : progress;
    case 'step_failed':
      return current && task.kind === 'step' ? rollback(progress, event.reason, event.evidence) : progress;
    case 'gate_decided':
      if (!current || task.kind !== 'step') return progress;
      return event.approved
        ? enterStep(plan, progress, task.index + 1, now)
        : rollback(progress, event.reason, {
            source: `approval gate '${gateName(plan, task.index)}'`,
            detail: event.reason,
          });
    case 'inconclusive': {
      if (finished(progress) || task.kind === 'hold') return progress;
      const held = { by: 'analysis', reason: event.reason };
      if (event.taskId === undefined) {
        // The background analysis: like a person's pause, the current step finishes and the next one waits.
        return progress.held ? progress : { ...progress, held };
      }
      if (!current || task.kind !== 'step') return progress;
      // An analysis step: a person looks at the measurements; resuming accepts them and moves on.
      return {
        ...progress,
        held,
        taskId: progress.taskId + 1,
        task: { kind: 'hold', ...held, resumeAt: task.index + 1 },
      };
    }
    case 'check_failed':
      return finished(progress) ? progress : rollback(progress, event.reason, event.evidence);
    case 'promote': {
      if (task.kind !== 'step') return progress;
      if (!event.full) return enterStep(plan, progress, task.index + 1, now);
      const last = plan.steps.findIndex((step) => step.kind === 'promote');
      return enterStep(plan, progress, last < 0 ? plan.steps.length : last, now);
    }
    case 'abort':
      return finished(progress)
        ? progress
        : rollback(progress, `aborted by ${event.user}${event.reason ? `: ${event.reason}` : ''}`, {
            source: 'abort',
            detail: event.reason,
          });
    case 'pause':
      return finished(progress) || progress.held
        ? progress
        : { ...progress, held: { by: event.user, reason: `paused by ${event.user}` } };
    case 'resume':
      if (task.kind === 'hold') return enterStep(plan, { ...progress, held: null }, task.resumeAt, now);
      return { ...progress, held: null };
    case 'rollback_done':
    case 'rollback_failed': {
      if (!current || task.kind !== 'rollback') return progress;
      // With nothing to go back to (a first rollout), undoing the attempt leaves the service down: failed.
      const undone = event.type === 'rollback_done';
      const outcome = undone && plan.kind !== 'initial' ? 'rolled_back' : 'failed';
      const reason = undone ? task.reason : `${task.reason}; the rollback failed: ${event.reason}`;
      return {
        ...progress,
        taskId: progress.taskId + 1,
        task: { kind: 'done', outcome, reason, evidence: task.evidence },
      };
    }
  }
}

function gateName(plan: RolloutPlan, index: number): string {
  const step = plan.steps[index];
  return step?.kind === 'approval' ? step.gate.name : `step ${index + 1}`;
}

/**
 * Why a control cannot apply now, or undefined when it can. Update validators return this to the caller with
 * nothing changed; signal handlers record it as a refused control.
 */
export function controlRefusal(
  plan: RolloutPlan,
  progress: RolloutProgress,
  control: RolloutControl,
): string | undefined {
  const { task } = progress;
  if (task.kind === 'done') return `the rollout has ended (${task.outcome})`;
  if (task.kind === 'rollback') return 'the rollout is rolling back';
  switch (control.type) {
    case 'promote': {
      if (task.kind === 'hold') return `the rollout is held (${task.reason}): resume it first`;
      const step = plan.steps[task.index];
      if (!step || (step.kind !== 'pause' && step.kind !== 'analysis')) {
        const what = step ? describeStep(step) : 'nothing';
        return step?.kind === 'approval'
          ? `step ${task.index + 1} is ${what}: it needs approvals, promote cannot skip it`
          : `promote skips a pause or an analysis; the rollout is at step ${task.index + 1} (${what})`;
      }
      if (control.full) {
        const gate = plan.steps.slice(task.index + 1).find((next) => next.kind === 'approval');
        if (gate && gate.kind === 'approval') {
          return `promote --full would skip approval gate '${gate.gate.name}': promote step by step and approve it`;
        }
      }
      return undefined;
    }
    case 'abort':
      return undefined;
    case 'pause':
      return progress.held ? `the rollout is already paused (${progress.held.reason})` : undefined;
    case 'resume':
      return progress.held ? undefined : 'the rollout is not paused';
  }
}

/** The DESIGN.md §7 state a rollout is in. */
export function rolloutState(plan: RolloutPlan, progress: RolloutProgress): DeployState {
  const { task } = progress;
  switch (task.kind) {
    case 'done':
      return task.outcome;
    case 'rollback':
      return 'rolling_back';
    case 'hold':
      return 'paused';
    case 'step': {
      const step = plan.steps[task.index];
      if (progress.held && step?.kind !== 'approval') return 'paused';
      switch (step?.kind) {
        case 'approval':
          return 'awaiting_approval';
        case 'pause':
          return step.monitor ? 'validating' : 'paused';
        case 'analysis':
        case 'smoke':
          return 'validating';
        default:
          return 'deploying';
      }
    }
  }
}
