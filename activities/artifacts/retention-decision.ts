/**
 * What a retention cycle keeps and deletes (docs/artifacts.md, ART-060…084). Pure: records, references and usage
 * in, one decision per artifact out, each with the policy and the reason — the audit trail and `gc --dry-run`
 * print exactly these.
 *
 * Per artifact, with the first matching policy (pipeline policies, then configured ones, by priority, highest
 * first; the built-in default last):
 *
 * 1. referenced (a queued or running job, or a pin; at least the policy's `min_reference_count`) → keep;
 * 2. red or critical pressure → delete (every unreferenced artifact, whatever its age: ART-082);
 * 3. younger than `min_age_days` → keep (the seed's "< 7 days: keep");
 * 4. used within `grace_period_hours` → keep;
 * 5. older than `max_age_days` → delete; unused for `delete_after_days_unused` → delete;
 * 6. otherwise keep.
 *
 * Yellow pressure cuts the periods of 4–5 by 25 %, orange by 50 % (as does a store above a policy's
 * `size_threshold_gb`). Then `max_artifacts_per_pipeline` keeps the newest N per pipeline, and above the size
 * limit (`max_total_size`, or 80 % of the quota at orange) the least recently used unreferenced artifacts go until
 * the store fits.
 */
import type { RetentionPolicy } from '../../pipeline/retention-policy';
import { defaultRetentionPolicy } from '../../pipeline/retention-policy';
import { pressureThresholds, type PressureLevel } from './quota';

/** An artifact as retention sees it. */
export interface RetentionCandidate {
  /** The record's key. */
  key: string;
  name: string;
  pipeline: string;
  run: string;
  job: string;
  /** Hex digest of its content. */
  digest: string;
  size: number;
  createdAt: string;
  lastAccessedAt: string;
  /** The pipeline's own policies (from its record). */
  policies?: RetentionPolicy[];
  /** Live references to its content (running or queued jobs, pins). */
  references: number;
}

/** Why an artifact is kept or deleted. */
export type RetentionReason =
  'referenced' | 'young' | 'grace' | 'retained' | 'pressure' | 'expired' | 'unused' | 'count' | 'size';

/** One decision, as audited. */
export interface RetentionDecision {
  key: string;
  digest: string;
  name: string;
  pipeline: string;
  size: number;
  decision: 'keep' | 'delete';
  reason: RetentionReason;
  policy: string;
  /** One line for people: the numbers behind the reason. */
  detail: string;
}

/** What the whole store looks like this cycle. */
export interface RetentionContext {
  now: Date;
  level: PressureLevel;
  /** Configured policies (conveyor.config.yml); the built-in default is always last. */
  policies: RetentionPolicy[];
  /** Bytes the store holds (content, metadata, references). */
  storeBytes: number;
  quotaBytes: number;
  /** `artifacts.retention.max_total_size`, when set. */
  maxTotalBytes?: number;
}

const day = 24 * 3600 * 1000;
const hour = 3600 * 1000;
const levelOrder: PressureLevel[] = ['green', 'yellow', 'orange', 'red', 'critical'];

/** How much yellow and orange shorten retention periods (ART-080, ART-081). */
export const pressureFactors: Record<PressureLevel, number> = {
  green: 1,
  yellow: 0.75,
  orange: 0.5,
  red: 0,
  critical: 0,
};

/** The first enabled policy whose pattern matches `name` from its start, by priority (highest first). */
export function matchPolicy(name: string, policies: readonly RetentionPolicy[]): RetentionPolicy {
  // Stable sort: at equal priority, the pipeline's policies (listed first) win over configured ones.
  const ordered = [...policies].sort((a, b) => b.priority - a.priority);
  for (const policy of ordered) {
    if (policy.enabled && new RegExp(`^(?:${policy.pattern})`).test(name)) return policy;
  }
  return defaultRetentionPolicy;
}

/** Decides every candidate. */
export function decideRetention(
  candidates: readonly RetentionCandidate[],
  context: RetentionContext,
): RetentionDecision[] {
  const decisions = candidates.map((candidate) => decideOne(candidate, context));
  applyCountLimits(candidates, decisions, context);
  applySizeLimit(candidates, decisions, context);
  return decisions;
}

function decideOne(candidate: RetentionCandidate, context: RetentionContext): RetentionDecision {
  const policy = matchPolicy(candidate.name, [...(candidate.policies ?? []), ...context.policies]);
  const level = effectiveLevel(policy, context);
  const factor = pressureFactors[level];
  const age = context.now.getTime() - Date.parse(candidate.createdAt);
  const unused = context.now.getTime() - Date.parse(candidate.lastAccessedAt);
  const days = (ms: number) => `${(ms / day).toFixed(1)} d`;
  const decide = (decision: 'keep' | 'delete', reason: RetentionReason, detail: string): RetentionDecision => ({
    key: candidate.key,
    digest: candidate.digest,
    name: candidate.name,
    pipeline: candidate.pipeline,
    size: candidate.size,
    decision,
    reason,
    policy: policy.name,
    detail,
  });

  if (policy.minReferenceCount > 0 && candidate.references >= policy.minReferenceCount) {
    return decide('keep', 'referenced', `${candidate.references} reference(s) hold it`);
  }
  if (level === 'red' || level === 'critical') {
    return decide('delete', 'pressure', `storage pressure is ${level}: every unreferenced artifact goes`);
  }
  if (age < policy.minAgeDays * day) {
    return decide('keep', 'young', `${days(age)} old, younger than ${policy.minAgeDays} d`);
  }
  const graceMs = policy.gracePeriodHours * factor * hour;
  if (unused < graceMs) {
    return decide(
      'keep',
      'grace',
      `used ${days(unused)} ago, within its ${(graceMs / hour).toFixed(0)} h grace period`,
    );
  }
  if (policy.maxAgeDays !== undefined && age > policy.maxAgeDays * factor * day) {
    return decide('delete', 'expired', `${days(age)} old, older than ${policy.maxAgeDays * factor} d${note(level)}`);
  }
  if (policy.deleteAfterDaysUnused !== undefined && unused > policy.deleteAfterDaysUnused * factor * day) {
    return decide(
      'delete',
      'unused',
      `unused for ${days(unused)}, longer than ${policy.deleteAfterDaysUnused * factor} d${note(level)}`,
    );
  }
  return decide('keep', 'retained', `${days(age)} old, used ${days(unused)} ago: within its policy`);
}

function note(level: PressureLevel): string {
  return level === 'green' ? '' : ` (shortened by ${level} pressure)`;
}

/** The level a policy acts under: the store's, raised to orange when the store is above its size threshold. */
function effectiveLevel(policy: RetentionPolicy, context: RetentionContext): PressureLevel {
  if (policy.sizeThresholdBytes !== undefined && context.storeBytes > policy.sizeThresholdBytes) {
    return levelOrder.indexOf(context.level) < levelOrder.indexOf('orange') ? 'orange' : context.level;
  }
  return context.level;
}

/** `max_artifacts_per_pipeline`: beyond the newest N of a pipeline (per policy), unreferenced ones go. */
function applyCountLimits(
  candidates: readonly RetentionCandidate[],
  decisions: RetentionDecision[],
  context: RetentionContext,
): void {
  const groups = new Map<string, number[]>();
  candidates.forEach((candidate, index) => {
    const policy = matchPolicy(candidate.name, [...(candidate.policies ?? []), ...context.policies]);
    if (policy.maxArtifactsPerPipeline === undefined) return;
    const group = `${policy.name}\u0000${candidate.pipeline}`;
    groups.set(group, [...(groups.get(group) ?? []), index]);
  });
  for (const indexes of groups.values()) {
    const limit = matchPolicy(candidates[indexes[0]!]!.name, [
      ...(candidates[indexes[0]!]!.policies ?? []),
      ...context.policies,
    ]).maxArtifactsPerPipeline!;
    const newestFirst = [...indexes].sort((a, b) => (candidates[b]!.createdAt < candidates[a]!.createdAt ? -1 : 1));
    newestFirst.slice(limit).forEach((index, position) => {
      const decision = decisions[index]!;
      if (decision.decision === 'delete' || decision.reason === 'referenced') return;
      Object.assign(decision, {
        decision: 'delete',
        reason: 'count',
        detail: `number ${limit + position + 1} of pipeline '${candidates[index]!.pipeline}', beyond the newest ${limit}`,
      });
    });
  }
}

/**
 * Size-based eviction: above `max_total_size`, or at orange (ART-081) above the yellow threshold, the least
 * recently used unreferenced artifacts that are not young go until the store would fit. Content shared by several
 * records is freed only when all of them go.
 */
function applySizeLimit(
  candidates: readonly RetentionCandidate[],
  decisions: RetentionDecision[],
  context: RetentionContext,
): void {
  const limits = [context.maxTotalBytes];
  if (context.level === 'orange') limits.push(pressureThresholds.yellow * context.quotaBytes);
  const limit = Math.min(...limits.filter((value): value is number => value !== undefined));
  if (!Number.isFinite(limit)) return;
  const remaining = new Map<string, number>();
  candidates.forEach((candidate, index) => {
    if (decisions[index]!.decision === 'keep')
      remaining.set(candidate.digest, (remaining.get(candidate.digest) ?? 0) + 1);
  });
  const sizes = new Map(candidates.map((candidate) => [candidate.digest, candidate.size]));
  let bytes = context.storeBytes;
  for (const [digest, size] of sizes) if (!remaining.has(digest)) bytes -= size;
  if (bytes <= limit) return;
  const evictable = candidates
    .map((candidate, index) => ({ candidate, index }))
    .filter(({ index }) => decisions[index]!.decision === 'keep')
    .filter(({ index }) => decisions[index]!.reason !== 'referenced' && decisions[index]!.reason !== 'young')
    .sort((a, b) => (a.candidate.lastAccessedAt < b.candidate.lastAccessedAt ? -1 : 1));
  for (const { candidate, index } of evictable) {
    if (bytes <= limit) return;
    Object.assign(decisions[index]!, {
      decision: 'delete',
      reason: 'size',
      detail: `the store holds more than ${Math.round(limit / 1e6)} MB: least recently used goes first`,
    });
    const left = (remaining.get(candidate.digest) ?? 1) - 1;
    remaining.set(candidate.digest, left);
    if (left === 0) bytes -= candidate.size;
  }
}

/**
 * The order deletions happen in when a cycle may delete only so many (ART-066): under red or critical pressure the
 * largest first (ART-071: "size > 1 GB under critical pressure → priority deletion"), otherwise the oldest first.
 */
export function deletionOrder(
  decisions: readonly RetentionDecision[],
  candidates: ReadonlyMap<string, RetentionCandidate>,
  level: PressureLevel,
): RetentionDecision[] {
  const deletions = decisions.filter((decision) => decision.decision === 'delete');
  if (level === 'red' || level === 'critical') return deletions.sort((a, b) => b.size - a.size);
  const created = (decision: RetentionDecision) => candidates.get(decision.key)?.createdAt ?? '';
  return deletions.sort((a, b) => (created(a) < created(b) ? -1 : created(a) > created(b) ? 1 : 0));
}
