/**
 * A retention cycle (docs/artifacts.md): `planRetention` reads metadata only — records, references, usage — decides
 * every artifact (retention-decision.ts) and writes the plan with one audit record per decision; `applyRetention`
 * carries it out, re-checking references right before each deletion (ART-063) and deleting content only when no
 * record uses it and nothing references it:
 *
 *   check uses and references → verify (re-hash, ART-051 (5)) → move to the trash → check again → purge, or put it
 *   back when an upload or a job claimed it meanwhile.
 *
 * Uploads mark a use before they check whether content exists, so together the two sides never lose content a new
 * record points to. Job references of runs that have ended (a crashed or terminated run cannot release them) are
 * stale and removed; pins hold until unpinned.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ArtifactSettings } from '../../config/artifacts-config';
import type { ArtifactStore, HexDigest } from '../store/store';
import { ArtifactCatalog, recordHex, type ArtifactReference } from './catalog';
import { measureUsage, type PressureLevel, type StoreUsage } from './quota';
import { decideRetention, deletionOrder, type RetentionCandidate, type RetentionDecision } from './retention-decision';
import { verifyContent } from './transfer';

/** What retention needs. */
export interface RetentionDeps {
  store: ArtifactStore;
  settings: Pick<ArtifactSettings, 'quotaBytes' | 'policies' | 'retention'>;
  /**
   * Whether a run is still open, i.e. its jobs' references still count. Default: asks Temporal with the activity's
   * client (unknown → closed; an unanswered question → open, to be safe).
   */
  runIsOpen?: (runId: string) => Promise<boolean>;
}

/** A reference whose run has ended. */
export interface StaleReference {
  digest: HexDigest;
  holder: string;
  run: string;
  job: string;
}

/** Everything a cycle will do, kept in the store at `audit/retention/<cycle>/plan.json`. */
export interface RetentionPlan {
  cycle: string;
  createdAt: string;
  usage: StoreUsage;
  /** One audit record per artifact. */
  decisions: RetentionDecision[];
  /** The deletions this cycle makes, in order (at most `maxDeletions`). */
  deletions: RetentionDecision[];
  /** Deletions left for later cycles by the per-cycle limit. */
  deferred: number;
  staleReferences: StaleReference[];
  /** Content no record uses and nothing references, older than a day (a crash between upload and record). */
  orphanedContent: { digest: HexDigest; size: number; modifiedAt: string }[];
  /** Use markers without their record, older than an hour (an upload that failed after marking). */
  staleUses: string[];
}

/** What `planRetention` returns to the workflow: counts, never lists. */
export interface RetentionPlanSummary {
  cycle: string;
  level: PressureLevel;
  usedPercent: number;
  artifacts: number;
  deletions: number;
  deferred: number;
  staleReferences: number;
  orphanedContent: number;
}

/** One audited outcome of `applyRetention`. */
export interface RetentionOutcome {
  key?: string;
  digest: HexDigest;
  name?: string;
  policy?: string;
  reason: string;
  size: number;
  ageDays?: number;
  references: number;
  outcome: 'deleted' | 'kept' | 'missing';
  /** Content deleted along with the record (its last user). */
  contentDeleted: boolean;
  /** The content did not hash to its digest when verified before deletion. */
  corrupted?: boolean;
  detail: string;
  at: string;
}

/** What `applyRetention` did. */
export interface RetentionResult {
  cycle: string;
  deletedRecords: number;
  deletedContent: number;
  bytesFreed: number;
  /** Candidates kept after all because something referenced or used them by the time of deletion. */
  keptOnRecheck: number;
  corrupted: number;
  staleReferencesRemoved: number;
}

const planKey = (cycle: string) => `audit/retention/${cycle}/plan.json`;
const resultKey = (cycle: string) => `audit/retention/${cycle}/result.json`;
const hour = 3600_000;

/** Plans a cycle (reads metadata only). Also what `conveyor artifacts gc --dry-run` prints. */
export async function planRetentionCycle(
  deps: RetentionDeps,
  options: { cycle: string; now?: Date; maxDeletions?: number },
): Promise<RetentionPlan> {
  const { store, settings } = deps;
  const now = options.now ?? new Date();
  const catalog = new ArtifactCatalog(store);
  const runIsOpen = cachedRunIsOpen(deps.runIsOpen ?? temporalRunIsOpen);
  const usage = await measureUsage(store, settings.quotaBytes);

  const references = await catalog.allReferences();
  const live = new Map<HexDigest, number>();
  const staleReferences: StaleReference[] = [];
  for (const [digest, holders] of references) {
    for (const { holder, reference } of holders) {
      if (reference.kind === 'pin' || (await runIsOpen(reference.run))) {
        live.set(digest, (live.get(digest) ?? 0) + 1);
      } else {
        staleReferences.push({ digest, holder, run: reference.run, job: reference.job });
      }
    }
  }

  const candidates: RetentionCandidate[] = [];
  const usedDigests = new Set<HexDigest>();
  const recordKeys = new Set<string>();
  for await (const { key, record } of catalog.listRecords()) {
    const digest = recordHex(record);
    usedDigests.add(digest);
    recordKeys.add(key);
    candidates.push({
      key,
      name: record.name,
      pipeline: record.pipeline,
      run: record.run,
      job: record.job,
      digest,
      size: record.size,
      createdAt: record.createdAt,
      lastAccessedAt: record.lastAccessedAt,
      policies: record.retention,
      references: live.get(digest) ?? 0,
    });
  }
  const decisions = decideRetention(candidates, {
    now,
    level: usage.level,
    policies: settings.policies,
    storeBytes: usage.bytes,
    quotaBytes: settings.quotaBytes,
    maxTotalBytes: settings.retention.maxTotalBytes,
  });
  const ordered = deletionOrder(decisions, new Map(candidates.map((c) => [c.key, c])), usage.level);
  const maxDeletions = options.maxDeletions ?? settings.retention.maxDeletions;

  const staleUses: string[] = [];
  for await (const { key, modifiedAt } of store.listRecords('meta/uses/')) {
    const marker = await store.getRecord<{ key: string }>(key);
    const digest = key.split('/')[2];
    if (marker && !recordKeys.has(marker.key) && now.getTime() - Date.parse(modifiedAt) > hour) {
      staleUses.push(key);
    } else if (digest) {
      usedDigests.add(digest);
    }
  }
  const orphanedContent: RetentionPlan['orphanedContent'] = [];
  for await (const content of store.listContent()) {
    if (usedDigests.has(content.digest) || live.has(content.digest)) continue;
    if (now.getTime() - Date.parse(content.modifiedAt) > 24 * hour) orphanedContent.push(content);
  }

  return {
    cycle: options.cycle,
    createdAt: now.toISOString(),
    usage,
    decisions,
    deletions: ordered.slice(0, maxDeletions),
    deferred: Math.max(0, ordered.length - maxDeletions),
    staleReferences,
    orphanedContent: orphanedContent.slice(0, Math.max(0, maxDeletions - Math.min(ordered.length, maxDeletions))),
    staleUses,
  };
}

/** Carries out a plan; `progress` is told after each step (heartbeats). */
export async function applyRetentionPlan(
  deps: RetentionDeps,
  plan: RetentionPlan,
  progress: (done: number) => void = () => undefined,
  log: (message: string) => void = () => undefined,
): Promise<{ result: RetentionResult; outcomes: RetentionOutcome[] }> {
  const { store } = deps;
  const catalog = new ArtifactCatalog(store);
  // Asked afresh each time: the point is to see references that appeared after the plan.
  const runIsOpen = deps.runIsOpen ?? temporalRunIsOpen;
  const result: RetentionResult = {
    cycle: plan.cycle,
    deletedRecords: 0,
    deletedContent: 0,
    bytesFreed: 0,
    keptOnRecheck: 0,
    corrupted: 0,
    staleReferencesRemoved: 0,
  };
  const outcomes: RetentionOutcome[] = [];
  let done = 0;

  const liveReferences = async (digest: HexDigest) => {
    let count = 0;
    for (const { reference } of await catalog.references(digest)) {
      if (isPin(reference) || (await runIsOpen(reference.run))) count += 1;
    }
    return count;
  };

  /** Deletes content nothing uses or references any more; returns what happened. */
  const deleteContent = async (digest: HexDigest): Promise<{ deleted: boolean; corrupted?: boolean; why: string }> => {
    if (await catalog.isUsed(digest)) return { deleted: false, why: 'another record uses the same content' };
    if ((await liveReferences(digest)) > 0) return { deleted: false, why: 'referenced' };
    const check = await verifyContent(store, digest);
    if (check.status === 'missing') return { deleted: false, why: 'content already gone' };
    const corrupted = check.status === 'corrupted';
    if (corrupted) log(`retention: sha256:${digest} was corrupted when verified before deletion`);
    if (!(await store.retireContent(digest))) return { deleted: false, why: 'content already gone' };
    if ((await catalog.isUsed(digest)) || (await liveReferences(digest)) > 0) {
      await store.reinstateContent(digest);
      return { deleted: false, corrupted, why: 'claimed while being deleted: put back' };
    }
    await store.purgeRetired(digest);
    await catalog.forgetDigest(digest);
    result.deletedContent += 1;
    result.bytesFreed += check.size;
    if (corrupted) result.corrupted += 1;
    return { deleted: true, corrupted, why: 'deleted' };
  };

  // A crashed earlier cycle may have left content in the trash: put back what is claimed, purge the rest.
  for await (const retired of store.listRetired()) {
    if ((await catalog.isUsed(retired.digest)) || (await liveReferences(retired.digest)) > 0) {
      await store.reinstateContent(retired.digest);
    } else {
      await store.purgeRetired(retired.digest);
    }
  }
  for (const stale of plan.staleReferences) {
    // Only if the run is still closed (it cannot reopen, but a new run may have reused the holder name).
    if (await runIsOpen(stale.run)) continue;
    if (await catalog.removeReference(stale.digest, stale.holder)) result.staleReferencesRemoved += 1;
  }
  for (const key of plan.staleUses) await store.deleteRecord(key);

  const remainingUsers = new Map<HexDigest, number>();
  for (const deletion of plan.deletions)
    remainingUsers.set(deletion.digest, (remainingUsers.get(deletion.digest) ?? 0) + 1);
  const candidateAges = new Map(plan.decisions.map((d) => [d.key, d]));
  for (const deletion of plan.deletions) {
    const at = new Date().toISOString();
    const base = {
      key: deletion.key,
      digest: deletion.digest,
      name: deletion.name,
      policy: deletion.policy,
      reason: deletion.reason,
      size: deletion.size,
      at,
    };
    const references = await liveReferences(deletion.digest);
    const record = await catalog.getRecord(deletion.key);
    if (!record) {
      outcomes.push({ ...base, references, outcome: 'missing', contentDeleted: false, detail: 'record already gone' });
    } else if (references > 0) {
      // Re-checked right before deleting (ART-063): a job or a pin claimed it since the plan.
      result.keptOnRecheck += 1;
      outcomes.push({
        ...base,
        references,
        outcome: 'kept',
        contentDeleted: false,
        detail: 'referenced since planning',
      });
    } else {
      await catalog.deleteRecord(deletion.key, record);
      result.deletedRecords += 1;
      const ageDays = (Date.parse(at) - Date.parse(record.createdAt)) / (24 * hour);
      const left = (remainingUsers.get(deletion.digest) ?? 1) - 1;
      remainingUsers.set(deletion.digest, left);
      const content = left === 0 ? await deleteContent(deletion.digest) : { deleted: false, why: 'shared' };
      outcomes.push({
        ...base,
        ageDays: Math.round(ageDays * 10) / 10,
        references,
        outcome: 'deleted',
        contentDeleted: content.deleted,
        corrupted: content.corrupted,
        detail: `${candidateAges.get(deletion.key)?.detail ?? ''}; content: ${content.why}`,
      });
    }
    progress(++done);
  }
  for (const orphan of plan.orphanedContent) {
    const content = await deleteContent(orphan.digest);
    outcomes.push({
      digest: orphan.digest,
      reason: 'orphaned',
      size: orphan.size,
      references: 0,
      outcome: content.deleted ? 'deleted' : 'kept',
      contentDeleted: content.deleted,
      corrupted: content.corrupted,
      detail: `no record uses it since ${orphan.modifiedAt}; ${content.why}`,
      at: new Date().toISOString(),
    });
    progress(++done);
  }
  return { result, outcomes };
}

/** Creates the retention activities (on the workflow task queue: they touch the store, not Docker). */
export function createRetentionActivities(deps: RetentionDeps) {
  async function planRetention(input: { cycle: string; maxDeletions?: number }): Promise<RetentionPlanSummary> {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 5000);
    try {
      const plan = await planRetentionCycle(deps, input);
      await deps.store.putRecord(planKey(plan.cycle), plan);
      const summary: RetentionPlanSummary = {
        cycle: plan.cycle,
        level: plan.usage.level,
        usedPercent: plan.usage.usedPercent,
        artifacts: plan.decisions.length,
        deletions: plan.deletions.length,
        deferred: plan.deferred,
        staleReferences: plan.staleReferences.length,
        orphanedContent: plan.orphanedContent.length,
      };
      if (plan.usage.level !== 'green') {
        // A storage-pressure alert with its utilisation and what the cycle will do (ART-084).
        ctx.log.warn(
          `artifact store at ${plan.usage.usedPercent} % of its quota (${plan.usage.level}): ` +
            `${summary.deletions} deletion(s) planned, ${summary.deferred} deferred`,
        );
      }
      return summary;
    } finally {
      clearInterval(beat);
    }
  }

  async function applyRetention(input: { cycle: string }): Promise<RetentionResult> {
    const ctx = Context.current();
    const plan = await deps.store.getRecord<RetentionPlan>(planKey(input.cycle));
    if (!plan) throw new Error(`no retention plan for cycle ${input.cycle}`);
    const { result, outcomes } = await applyRetentionPlan(
      deps,
      plan,
      (done) => ctx.heartbeat(done),
      (message) => ctx.log.warn(message),
    );
    await deps.store.putRecord(resultKey(input.cycle), { ...result, outcomes });
    return result;
  }

  return { planRetention, applyRetention };
}

function isPin(reference: ArtifactReference): reference is Extract<ArtifactReference, { kind: 'pin' }> {
  return reference.kind === 'pin';
}

/** Asks Temporal (through the activity's client) whether a run is still open. */
async function temporalRunIsOpen(runId: string): Promise<boolean> {
  try {
    const description = await Context.current().client.workflow.getHandle(runId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    // When the server cannot say, keep the reference: deleting what a live job needs would break it.
    return true;
  }
}

function cachedRunIsOpen(ask: (runId: string) => Promise<boolean>): (runId: string) => Promise<boolean> {
  const cache = new Map<string, Promise<boolean>>();
  return (runId) => {
    let answer = cache.get(runId);
    if (!answer) {
      answer = ask(runId);
      cache.set(runId, answer);
    }
    return answer;
  };
}
