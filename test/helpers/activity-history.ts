/** Who did what in a workflow's history: each completed activity with its job and the worker that ran it. */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/** One completed (or failed) activity attempt. */
export interface ActivityRun {
  type: string;
  /** The `job` field of its input, when it has one. */
  job?: string;
  /** The `step` field of its input (a step's activity), when it has one. */
  step?: string;
  /** The `cause` field of its input (an investigation's checks), when it has one. */
  cause?: string;
  /** The worker identity (`pid@host`) that ran the attempt. */
  identity: string;
  attempt: number;
  outcome: 'completed' | 'failed' | 'timed_out';
}

/** The activity attempts of a workflow (and of its job children are not included). */
export async function activityRuns(client: Client, workflowId: string): Promise<ActivityRun[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Map<string, { type: string; job?: string; step?: string; cause?: string }>();
  const started = new Map<string, { scheduledId: string; identity: string; attempt: number }>();
  const runs: ActivityRun[] = [];
  for (const event of events as temporal.api.history.v1.IHistoryEvent[]) {
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes) {
      const attributes = event.activityTaskScheduledEventAttributes;
      const payload = attributes.input?.payloads?.[0];
      const input = payload
        ? defaultPayloadConverter.fromPayload<{ job?: string; step?: string; cause?: string }>(payload)
        : undefined;
      scheduled.set(id, {
        type: attributes.activityType?.name ?? '',
        job: input?.job,
        ...(input?.step ? { step: input.step } : {}),
        ...(input?.cause ? { cause: input.cause } : {}),
      });
    } else if (event.activityTaskStartedEventAttributes) {
      const attributes = event.activityTaskStartedEventAttributes;
      started.set(id, {
        scheduledId: String(attributes.scheduledEventId),
        identity: attributes.identity ?? '',
        attempt: attributes.attempt ?? 1,
      });
    } else {
      const ended =
        (event.activityTaskCompletedEventAttributes && ['completed', event.activityTaskCompletedEventAttributes]) ||
        (event.activityTaskFailedEventAttributes && ['failed', event.activityTaskFailedEventAttributes]) ||
        (event.activityTaskTimedOutEventAttributes && ['timed_out', event.activityTaskTimedOutEventAttributes]);
      if (!ended) continue;
      const [outcome, attributes] = ended as [ActivityRun['outcome'], { startedEventId?: unknown }];
      const start = started.get(String(attributes.startedEventId));
      const what = start ? scheduled.get(start.scheduledId) : undefined;
      if (start && what) runs.push({ ...what, identity: start.identity, attempt: start.attempt, outcome });
    }
  }
  return runs;
}
