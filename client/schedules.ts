/**
 * Pipeline schedules as Temporal Schedules (docs/triggers.md): one per `schedule:` entry and branch, id
 * `schedule-<pipeline>-<branch>-<n>`, starting a `scheduledRun` with overlap policy skip unless the entry says
 * otherwise. `syncSchedules` makes Temporal match a pipeline file as read on one branch — creating, updating and
 * deleting — and is called by `conveyor schedules sync` and by the server for every push that changes a branch.
 */
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSummary,
} from '@temporalio/client';
import { slug } from '../activities/names';
import type { ScheduledRunInput } from '../activities/source/source-activities';
import type { ScheduleTriggerModel } from '../pipeline/model';
import type { SourceProvider } from '../pipeline/source';
import type { ConveyorConfig } from '../workers/config';
import { pipelineKey } from '../workflows/search-attributes';

/** Where a pipeline file was read from, for its schedules. */
export interface ScheduleTarget {
  pipeline: string;
  repository: string;
  /** The pipeline file, relative to the repository root. */
  file: string;
  /** The branch the file was read from: only entries for this branch are synced. */
  branch: string;
  /** Entries without `branch:` belong to this branch (the repository's default branch). */
  defaultBranch: string;
  provider?: SourceProvider;
}

/** What `syncSchedules` did, by schedule id. */
export interface ScheduleSync {
  created: string[];
  updated: string[];
  deleted: string[];
}

/** The memo every Conveyor schedule carries. */
export interface ScheduleMemo {
  pipeline: string;
  repository: string;
  file: string;
  branch: string;
  cron: string;
  timezone?: string;
}

/** Prefix of every Conveyor schedule id. */
export const scheduleIdPrefix = 'schedule-';

/** The id of one entry's schedule: `schedule-<pipeline>-<branch>-<n>`. */
export function scheduleId(pipeline: string, branch: string, index: number): string {
  return `${scheduleIdPrefix}${slug(pipeline)}-${slug(branch)}-${index}`;
}

function schedulePrefix(pipeline: string, branch: string): string {
  return `${scheduleIdPrefix}${slug(pipeline)}-${slug(branch)}-`;
}

const overlapPolicies: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  buffer_all: ScheduleOverlapPolicy.BUFFER_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
  terminate_other: ScheduleOverlapPolicy.TERMINATE_OTHER,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** Makes Temporal's schedules of (pipeline, branch) match the pipeline's `schedule:` entries for that branch. */
export async function syncSchedules(
  client: Client,
  config: ConveyorConfig,
  target: ScheduleTarget,
  entries: readonly ScheduleTriggerModel[] | undefined,
): Promise<ScheduleSync> {
  const result: ScheduleSync = { created: [], updated: [], deleted: [] };
  const wanted = (entries ?? []).filter((entry) => (entry.branch ?? target.defaultBranch) === target.branch);
  const existing = new Set<string>();
  const prefix = schedulePrefix(target.pipeline, target.branch);
  for await (const schedule of client.schedule.list()) {
    if (schedule.scheduleId.startsWith(prefix)) existing.add(schedule.scheduleId);
  }
  for (const [index, entry] of wanted.entries()) {
    const id = scheduleId(target.pipeline, target.branch, index);
    const action = scheduledRunAction(config, target, id);
    const spec = { cronExpressions: [entry.cron], ...(entry.timezone ? { timezone: entry.timezone } : {}) };
    const policies = { overlap: overlapPolicies[entry.overlap ?? 'skip'], catchupWindow: '1 minute' };
    if (existing.has(id)) {
      await client.schedule.getHandle(id).update((previous) => ({ ...previous, spec, action, policies }));
      result.updated.push(id);
      existing.delete(id);
      continue;
    }
    const memo: ScheduleMemo = {
      pipeline: target.pipeline,
      repository: target.repository,
      file: target.file,
      branch: target.branch,
      cron: entry.cron,
      ...(entry.timezone ? { timezone: entry.timezone } : {}),
    };
    await client.schedule.create({ scheduleId: id, spec, action, policies, memo: { ...memo } });
    result.created.push(id);
  }
  for (const id of existing) {
    await client.schedule
      .getHandle(id)
      .delete()
      .catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
    result.deleted.push(id);
  }
  return result;
}

function scheduledRunAction(
  config: ConveyorConfig,
  target: ScheduleTarget,
  id: string,
): ScheduleOptionsStartWorkflowAction<(input: ScheduledRunInput) => Promise<unknown>> {
  const input: ScheduledRunInput = {
    schedule: id,
    pipeline: target.pipeline,
    repository: target.repository,
    branch: target.branch,
    file: target.file,
    ...(target.provider ? { provider: target.provider } : {}),
  };
  return {
    type: 'startWorkflow',
    workflowType: 'scheduledRun',
    // Temporal appends the scheduled time: scheduled-<pipeline>-<branch>-2025-01-01T03:00:00Z.
    workflowId: `scheduled-${slug(target.pipeline)}-${slug(target.branch)}`,
    taskQueue: config.taskQueues.workflows,
    args: [input],
    typedSearchAttributes: [{ key: pipelineKey, value: target.pipeline }],
    staticSummary: `schedule ${id}`,
  };
}

/** Conveyor's schedules, by id. */
export async function listSchedules(client: Client): Promise<ScheduleSummary[]> {
  const schedules: ScheduleSummary[] = [];
  for await (const schedule of client.schedule.list()) {
    if (schedule.scheduleId.startsWith(scheduleIdPrefix)) schedules.push(schedule);
  }
  return schedules.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}
