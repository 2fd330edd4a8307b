/**
 * `artifactRetention`: one retention run, started by the `conveyor-artifact-retention` Temporal Schedule (every
 * 4 hours by default, never two at once) or by `conveyor artifacts gc` (docs/artifacts.md). It plans a cycle
 * (metadata only, an audit record per decision) and applies it (at most `maxDeletions`, references re-checked right
 * before each deletion). Under storage pressure cleanup is more frequent (ART-080): while the store stays at
 * yellow or above, it runs another cycle after a quarter of the interval, up to three times.
 */
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type {
  createRetentionActivities,
  RetentionPlanSummary,
  RetentionResult,
} from '../activities/artifacts/retention';

/** Input of `artifactRetention`; every duration is an input (STYLE.md 10). */
export interface ArtifactRetentionInput {
  /** At most this many deletions per cycle (default 1,000; ART-066). */
  maxDeletions?: number;
  /** The schedule's interval in seconds (default 4 h); follow-up cycles under pressure wait a quarter of it. */
  intervalSeconds?: number;
  /** Follow-up cycles at most, while the store stays at yellow or above (default 3). */
  followUps?: number;
}

/** One cycle: the plan's counts and what was done. */
export interface RetentionCycle {
  plan: RetentionPlanSummary;
  result: RetentionResult;
}

/** Result of `artifactRetention`. */
export interface ArtifactRetentionResult {
  cycles: RetentionCycle[];
}

const { planRetention, applyRetention } = proxyActivities<ReturnType<typeof createRetentionActivities>>({
  // Listing and reading every record of a large store, or verifying and deleting 1,000 objects, takes a while.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/** Runs retention cycles; returns what each did. */
export async function artifactRetention(input: ArtifactRetentionInput = {}): Promise<ArtifactRetentionResult> {
  const intervalSeconds = input.intervalSeconds ?? 4 * 3600;
  const followUps = input.followUps ?? 3;
  const cycles: RetentionCycle[] = [];
  for (let round = 0; ; round += 1) {
    const cycle = `${workflowInfo().workflowId}-${workflowInfo().runId.slice(0, 8)}-${round}`;
    const plan = await planRetention({ cycle, maxDeletions: input.maxDeletions });
    const result = await applyRetention({ cycle });
    cycles.push({ plan, result });
    const pressured = plan.level !== 'green';
    if (!pressured || round >= followUps) return { cycles };
    await sleep((intervalSeconds / 4) * 1000);
  }
}
