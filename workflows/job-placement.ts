/**
 * Whether a run's jobs run inline in its own workflow or as `pipelineJob` child workflows (docs/architecture.md,
 * "Inline jobs or child workflows"). Inline is faster and shows steps live in the run's status; children keep the
 * run's history small, growing by a few events per job whatever the jobs contain.
 *
 * The decision is taken once, when the run starts, and recorded in its history as a patch marker, so a later
 * change of the threshold never changes the command sequence of a run in flight: on replay the recorded marker
 * answers, not today's threshold.
 */
import { patched } from '@temporalio/workflow';
import type { JobModel } from '../pipeline/model';
import { inlineEventBudget } from './inline-event-budget';

export { inlineEventBudget };

/** The markers that record the decision. */
export const placementPatches = { inline: 'conveyor-jobs-inline', children: 'conveyor-jobs-children' } as const;

/** The threshold of the runs that started before the decision was recorded; they replay with it. Never change it. */
const unrecordedInlineEventBudget = 10_000;

/** About how many history events a pipeline's jobs add when run inline: a job timer, ~6 events per step attempt. */
export function estimatedInlineEvents(jobs: readonly JobModel[]): number {
  const stepAttempts = (job: JobModel) => job.steps.reduce((sum, step) => sum + 1 + step.retryCount, 0);
  return jobs.reduce((sum, job) => sum + (2 + 6 * stepAttempts(job)) * (1 + job.retryCount), 0);
}

/**
 * Decides (in a new run) or reads back (on replay) whether the jobs run inline. Call it once, first thing in the
 * run. `budget` is the run's `inlineEventBudget` option, if any.
 */
export function decideJobsInline(jobs: readonly JobModel[], budget: number | undefined): boolean {
  const estimate = estimatedInlineEvents(jobs);
  const inline = estimate <= (budget ?? inlineEventBudget);
  // A new run records its decision and gets `true`; a replay gets `true` only for the marker it recorded.
  if (patched(inline ? placementPatches.inline : placementPatches.children)) return inline;
  if (patched(inline ? placementPatches.children : placementPatches.inline)) return !inline;
  return estimate <= (budget ?? unrecordedInlineEventBudget);
}
