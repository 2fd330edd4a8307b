/**
 * The retention schedule (docs/artifacts.md): a Temporal Schedule, visible in the Temporal UI, that starts the
 * `artifactRetention` workflow every `artifacts.retention.interval` (4 h by default) and skips a start while the
 * previous run is still going, so at most one retention run exists at a time (ART-066, ART-067). Every worker
 * ensures it at start: created when missing, updated when the configuration changed.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import type { ArtifactRetentionInput } from '../workflows/artifact-retention';

/** The schedule's id (one per namespace). */
export const retentionScheduleId = 'conveyor-artifact-retention';

/** What the schedule runs. */
export interface RetentionScheduleOptions {
  /** The workflow task queue (`conveyor`). */
  taskQueue: string;
  intervalSeconds: number;
  maxDeletions: number;
  /** Default `conveyor-artifact-retention`; tests use their own. */
  scheduleId?: string;
}

/** Creates or updates the schedule; says which it did. */
export async function ensureRetentionSchedule(
  client: Client,
  options: RetentionScheduleOptions,
): Promise<'created' | 'updated' | 'unchanged'> {
  const scheduleId = options.scheduleId ?? retentionScheduleId;
  const args: [ArtifactRetentionInput] = [
    { maxDeletions: options.maxDeletions, intervalSeconds: options.intervalSeconds },
  ];
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'artifactRetention',
    taskQueue: options.taskQueue,
    workflowId: scheduleId,
    args,
  };
  const spec = { intervals: [{ every: `${options.intervalSeconds}s` }] };
  const handle = client.schedule.getHandle(scheduleId);
  try {
    const description = await handle.describe();
    const current = description.action as { taskQueue?: string; args?: unknown[] };
    const every = description.spec.intervals?.[0]?.every;
    const sameArgs = JSON.stringify(current.args) === JSON.stringify(args);
    if (current.taskQueue === options.taskQueue && sameArgs && Number(every) === options.intervalSeconds * 1000) {
      return 'unchanged';
    }
    await handle.update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  const schedule: ScheduleOptions = {
    scheduleId,
    spec,
    action,
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    memo: { description: 'Conveyor artifact retention (docs/artifacts.md)' },
  };
  try {
    await client.schedule.create(schedule);
  } catch (error) {
    // Another worker created it at the same moment.
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    return 'unchanged';
  }
  return 'created';
}
