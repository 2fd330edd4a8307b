/**
 * Where a deployment's milliseconds go (docs/benchmarks.md, "Deployments: where the milliseconds go"): the events
 * of the deployment workflow's history between a start (a `promote` sent, a failing measurement) and the router
 * serving the new table, as consecutive steps — workflow tasks, activity dispatch and execution, and the moment the
 * router confirmed the table (`appliedAt` in setRoutes' result) — with medians over rounds.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/** One moment of a workflow's history (ms since the epoch). */
export interface Moment {
  label: string;
  at: number;
}

type Event = temporal.api.history.v1.IHistoryEvent;

function timeOf(event: Event): number {
  const time = event.eventTime;
  return Number(time?.seconds ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;
}

/** Workflow tasks, the deployment activities' attempts, and the router's confirmations, in history order. */
export async function moments(client: Client, workflowId: string, runId?: string): Promise<Moment[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const names = new Map<string, string>();
  const result: Moment[] = [];
  for (const event of (history.events ?? []) as Event[]) {
    const at = timeOf(event);
    if (event.workflowTaskStartedEventAttributes) result.push({ label: 'workflow task started', at });
    else if (event.workflowTaskCompletedEventAttributes) result.push({ label: 'workflow task completed', at });
    else if (event.activityTaskScheduledEventAttributes) {
      const name = event.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      names.set(String(event.eventId), name);
      result.push({ label: `${name} scheduled`, at });
    } else if (event.activityTaskStartedEventAttributes) {
      const name = names.get(String(event.activityTaskStartedEventAttributes.scheduledEventId)) ?? '?';
      result.push({ label: `${name} started`, at });
    } else if (event.activityTaskCompletedEventAttributes) {
      const attributes = event.activityTaskCompletedEventAttributes;
      const name = names.get(String(attributes.scheduledEventId)) ?? '?';
      result.push({ label: `${name} completed`, at });
      const payload = attributes.result?.payloads?.[0];
      if (name === 'setRoutes' && payload) {
        const applied = defaultPayloadConverter.fromPayload<{ appliedAt?: string }>(payload).appliedAt;
        if (applied) result.push({ label: 'router serves the table (appliedAt)', at: Date.parse(applied) });
      }
    } else if (event.activityTaskFailedEventAttributes) {
      const name = names.get(String(event.activityTaskFailedEventAttributes.scheduledEventId)) ?? '?';
      result.push({ label: `${name} failed`, at });
    }
  }
  return result.sort((a, b) => a.at - b.at);
}

/** Activities that run all along (health watch, background measurements) and say nothing about the path measured. */
const background = /^(watchHealth|measure) (scheduled|started)$/;

/**
 * The path from `start` to `end`: the moments in between (without background activities), each with the time since
 * the previous one, beginning with `startLabel` at 0 and ending with `endLabel`.
 */
export function path(all: Moment[], start: number, end: number, startLabel: string, endLabel: string): Moment[] {
  const inside = all.filter((moment) => moment.at >= start && moment.at <= end && !background.test(moment.label));
  return [{ label: startLabel, at: start }, ...inside, { label: endLabel, at: end }];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Lines for the report: when every round took the same path, the median of each step over the rounds; otherwise
 * the steps of the round whose total is the median.
 */
export function describePaths(paths: Moment[][]): string[] {
  if (paths.length === 0) return [];
  const shape = (p: Moment[]) => p.map((m) => m.label).join(' → ');
  const same = paths.every((p) => shape(p) === shape(paths[0]!));
  const total = (p: Moment[]) => p[p.length - 1]!.at - p[0]!.at;
  const lines: string[] = [];
  if (same) {
    const first = paths[0]!;
    for (let index = 1; index < first.length; index += 1) {
      const step = median(paths.map((p) => p[index]!.at - p[index - 1]!.at));
      lines.push(`  +${step.toFixed(0).padStart(5)} ms  ${first[index - 1]!.label} → ${first[index]!.label}`);
    }
    lines.push(`  =${median(paths.map(total)).toFixed(0).padStart(5)} ms  median total (${paths.length} rounds)`);
    return lines;
  }
  const sorted = [...paths].sort((a, b) => total(a) - total(b));
  const middle = sorted[Math.floor(sorted.length / 2)]!;
  lines.push('  (the rounds took different paths; the median round:)');
  for (let index = 1; index < middle.length; index += 1) {
    const step = middle[index]!.at - middle[index - 1]!.at;
    lines.push(`  +${step.toFixed(0).padStart(5)} ms  ${middle[index - 1]!.label} → ${middle[index]!.label}`);
  }
  lines.push(`  =${total(middle).toFixed(0).padStart(5)} ms  total`);
  return lines;
}
