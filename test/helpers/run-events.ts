/**
 * A run's events in the order Temporal recorded them, read from the workflow's history: step activities scheduled,
 * ended and cancelled, durable timers started and fired, the run's cancel request. Workflow tests assert on this
 * order (what happened before what), never on wall-clock durations.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { RunStepInput, RunStepResult } from '../../activities/docker-step-types';

/** Which step attempt an event is about. */
export interface StepRef {
  job: string;
  step: string;
  /** Script attempt (1-based). */
  attempt: number;
  /** Whole-job attempt (1-based). */
  jobAttempt: number;
}

/** One event of a run's history that says something about its schedule. */
export type RunEvent =
  | ({ kind: 'step-scheduled' | 'step-cancel-requested' } & StepRef)
  /** `outcome`: the step result's, or `error` (the activity failed or timed out), or `cancelled`. */
  | ({ kind: 'step-ended'; outcome: RunStepResult['outcome'] | 'error' | 'cancelled'; exitCode?: number } & StepRef)
  | { kind: 'timer-started' | 'timer-fired'; seconds: number }
  | { kind: 'run-cancel-requested' }
  /** A job child workflow started, ended (`completed`, `failed`, `cancelled`, …) or was asked to cancel. */
  | { kind: 'job-started'; job: string; workflowId: string }
  | { kind: 'job-ended'; job: string; outcome: string }
  | { kind: 'job-cancel-requested'; job: string };

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function decode<T>(
  payloads: { payloads?: temporal.api.common.v1.IPayload[] | null } | null | undefined,
): T | undefined {
  const payload = payloads?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
}

function seconds(duration: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(duration?.seconds ?? 0) + (duration?.nanos ?? 0) / 1e9;
}

/** The schedule-relevant events of one workflow's history, each with the server's time of its event. */
async function historyEvents(client: Client, workflowId: string): Promise<Array<{ event: RunEvent; time: number }>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const steps = new Map<string, StepRef>();
  const timers = new Map<string, number>();
  const children = new Map<string, string>();
  const childByWorkflowId = new Map<string, string>();
  const events: Array<{ event: RunEvent; time: number }> = [];
  const stepOf = (scheduledEventId: unknown): StepRef | undefined => steps.get(String(scheduledEventId));
  for (const event of (history.events ?? []) as HistoryEvent[]) {
    const id = String(event.eventId);
    // Microseconds: the server's clock orders events of different workflows (a run and its job children).
    const time = Number(event.eventTime?.seconds ?? 0) * 1e6 + Math.floor((event.eventTime?.nanos ?? 0) / 1000);
    const push = (runEvent: RunEvent) => events.push({ event: runEvent, time });
    const scheduled = event.activityTaskScheduledEventAttributes;
    const childInitiated = event.startChildWorkflowExecutionInitiatedEventAttributes;
    const childEnded =
      (event.childWorkflowExecutionCompletedEventAttributes && 'completed') ||
      (event.childWorkflowExecutionFailedEventAttributes && 'failed') ||
      (event.childWorkflowExecutionCanceledEventAttributes && 'cancelled') ||
      (event.childWorkflowExecutionTerminatedEventAttributes && 'terminated') ||
      (event.childWorkflowExecutionTimedOutEventAttributes && 'timed_out');
    if (scheduled) {
      if (scheduled.activityType?.name !== 'runStep') continue;
      const input = decode<RunStepInput>(scheduled.input)!;
      const ref = { job: input.job, step: input.step, attempt: input.attempt, jobAttempt: input.jobAttempt ?? 1 };
      steps.set(id, ref);
      push({ kind: 'step-scheduled', ...ref });
    } else if (event.activityTaskCompletedEventAttributes) {
      const attributes = event.activityTaskCompletedEventAttributes;
      const ref = stepOf(attributes.scheduledEventId);
      const result = decode<RunStepResult>(attributes.result);
      if (ref && result) push({ kind: 'step-ended', ...ref, outcome: result.outcome, exitCode: result.exitCode });
    } else if (event.activityTaskFailedEventAttributes || event.activityTaskTimedOutEventAttributes) {
      const attributes = (event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes)!;
      const ref = stepOf(attributes.scheduledEventId);
      if (ref) push({ kind: 'step-ended', ...ref, outcome: 'error' });
    } else if (event.activityTaskCancelRequestedEventAttributes) {
      const ref = stepOf(event.activityTaskCancelRequestedEventAttributes.scheduledEventId);
      if (ref) push({ kind: 'step-cancel-requested', ...ref });
    } else if (event.activityTaskCanceledEventAttributes) {
      const ref = stepOf(event.activityTaskCanceledEventAttributes.scheduledEventId);
      if (ref) push({ kind: 'step-ended', ...ref, outcome: 'cancelled' });
    } else if (event.timerStartedEventAttributes) {
      const attributes = event.timerStartedEventAttributes;
      const duration = seconds(attributes.startToFireTimeout);
      timers.set(attributes.timerId ?? '', duration);
      push({ kind: 'timer-started', seconds: duration });
    } else if (event.timerFiredEventAttributes) {
      push({ kind: 'timer-fired', seconds: timers.get(event.timerFiredEventAttributes.timerId ?? '') ?? NaN });
    } else if (event.workflowExecutionCancelRequestedEventAttributes) {
      push({ kind: 'run-cancel-requested' });
    } else if (childInitiated) {
      const job = decode<{ job: { name: string } }>(childInitiated.input)?.job.name ?? '';
      children.set(id, job);
      childByWorkflowId.set(childInitiated.workflowId ?? '', job);
      push({ kind: 'job-started', job, workflowId: childInitiated.workflowId ?? '' });
    } else if (childEnded) {
      const attributes = (event.childWorkflowExecutionCompletedEventAttributes ??
        event.childWorkflowExecutionFailedEventAttributes ??
        event.childWorkflowExecutionCanceledEventAttributes ??
        event.childWorkflowExecutionTerminatedEventAttributes ??
        event.childWorkflowExecutionTimedOutEventAttributes)!;
      push({ kind: 'job-ended', job: children.get(String(attributes.initiatedEventId)) ?? '', outcome: childEnded });
    } else if (event.requestCancelExternalWorkflowExecutionInitiatedEventAttributes) {
      const target = event.requestCancelExternalWorkflowExecutionInitiatedEventAttributes.workflowExecution;
      push({ kind: 'job-cancel-requested', job: childByWorkflowId.get(target?.workflowId ?? '') ?? '' });
    }
  }
  return events;
}

/** The schedule-relevant events of one workflow's history, in its order (job children have their own). */
export async function runEvents(client: Client, workflowId: string): Promise<RunEvent[]> {
  return (await historyEvents(client, workflowId)).map(({ event }) => event);
}

/**
 * The events of a run and of every job child it started, merged in the order the server recorded them (each
 * history keeps its own order; different histories are ordered by the server's event times).
 */
export async function runEventsWithChildren(client: Client, workflowId: string): Promise<RunEvent[]> {
  const run = await historyEvents(client, workflowId);
  const histories = [run];
  for (const { event } of run) {
    if (event.kind === 'job-started') histories.push(await historyEvents(client, event.workflowId));
  }
  const merged = histories.flatMap((events, history) => events.map((entry, index) => ({ ...entry, history, index })));
  merged.sort((a, b) => (a.history === b.history ? a.index - b.index : a.time - b.time || a.history - b.history));
  return merged.map(({ event }) => event);
}

/**
 * One event as a short line for readable assertions: `scheduled build/compile 1.1` (job attempt . script attempt),
 * `ended build/compile 1.1 failed`, `cancel build/compile 1.1`, `timer 3s`, `fired 3s`, `run cancel requested`,
 * `child build`, `child build completed`, `cancel child build`.
 */
export function describeEvent(event: RunEvent): string {
  switch (event.kind) {
    case 'step-scheduled':
      return `scheduled ${event.job}/${event.step} ${event.jobAttempt}.${event.attempt}`;
    case 'step-cancel-requested':
      return `cancel ${event.job}/${event.step} ${event.jobAttempt}.${event.attempt}`;
    case 'step-ended':
      return `ended ${event.job}/${event.step} ${event.jobAttempt}.${event.attempt} ${event.outcome}`;
    case 'timer-started':
      return `timer ${event.seconds}s`;
    case 'timer-fired':
      return `fired ${event.seconds}s`;
    case 'run-cancel-requested':
      return 'run cancel requested';
    case 'job-started':
      return `child ${event.job}`;
    case 'job-ended':
      return `child ${event.job} ${event.outcome}`;
    case 'job-cancel-requested':
      return `cancel child ${event.job}`;
  }
}

/** The run's events, its job children's included, as lines (see `describeEvent`). */
export async function runEventLines(client: Client, workflowId: string): Promise<string[]> {
  return (await runEventsWithChildren(client, workflowId)).map(describeEvent);
}

/** The most step activities of the run that were in flight (scheduled, not yet ended) at any one point. */
export function mostStepsInFlight(events: RunEvent[], filter: (ref: StepRef) => boolean = () => true): number {
  let inFlight = 0;
  let most = 0;
  for (const event of events) {
    if (event.kind === 'step-scheduled' && filter(event)) most = Math.max(most, (inFlight += 1));
    else if (event.kind === 'step-ended' && filter(event)) inFlight -= 1;
  }
  return most;
}

/** Position of the first line matching `pattern`; fails the caller's assertion readably when there is none. */
export function positionOf(lines: string[], pattern: string | RegExp): number {
  const index = lines.findIndex((line) => (typeof pattern === 'string' ? line === pattern : pattern.test(line)));
  if (index < 0) throw new Error(`no event ${String(pattern)} in:\n${lines.join('\n')}`);
  return index;
}
