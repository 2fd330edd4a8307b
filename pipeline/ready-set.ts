import type { ExecutionPlan } from './plan';

/**
 * Which jobs can be decided next. Each job keeps a count of unfinished dependencies; finishing a job decrements
 * its dependents' counts and returns those that reached zero, so each completion costs O(its dependents) and a
 * whole run O(jobs + dependencies) — no rescans. "Finished" means any terminal state: the caller decides, with
 * the job's `if:` and its dependencies' results, whether a ready job runs or is skipped.
 *
 * Deterministic (no clocks, no randomness), so it is safe inside a workflow; rebuild it after continue-as-new
 * with {@link ReadySet.restore}.
 */
export class ReadySet {
  private readonly remaining = new Map<string, number>();
  private readonly dependents: Readonly<Record<string, readonly string[]>>;
  private readonly finished = new Set<string>();
  private readonly initial: string[] = [];

  constructor(plan: Pick<ExecutionPlan, 'jobs' | 'dependsOn' | 'dependents'>) {
    this.dependents = plan.dependents;
    for (const job of plan.jobs) {
      const count = new Set(plan.dependsOn[job] ?? []).size;
      this.remaining.set(job, count);
      if (count === 0) this.initial.push(job);
    }
  }

  /** A ready set in which `finished` jobs are already done (for continue-as-new or re-runs). */
  static restore(plan: Pick<ExecutionPlan, 'jobs' | 'dependsOn' | 'dependents'>, finished: Iterable<string>): ReadySet {
    const set = new ReadySet(plan);
    for (const job of finished) set.complete(job);
    return set;
  }

  /** The jobs with no dependencies: ready when the run starts. */
  roots(): string[] {
    return [...this.initial];
  }

  /** Jobs not yet finished whose dependencies have all finished (O(jobs); for queries, not the hot path). */
  ready(): string[] {
    return [...this.remaining].flatMap(([job, count]) => (count === 0 && !this.finished.has(job) ? [job] : []));
  }

  /**
   * Marks `job` finished (in any terminal state) and returns the dependents that just became ready, in plan
   * order. Finishing a job twice, or an unknown job, returns `[]`.
   */
  complete(job: string): string[] {
    if (!this.remaining.has(job) || this.finished.has(job)) return [];
    this.finished.add(job);
    const ready: string[] = [];
    for (const dependent of this.dependents[job] ?? []) {
      const left = (this.remaining.get(dependent) ?? 0) - 1;
      this.remaining.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
    return ready;
  }

  /** How many of `job`'s dependencies have not finished yet. */
  pendingDependencies(job: string): number {
    return this.remaining.get(job) ?? 0;
  }

  /** Whether every job has finished. */
  get done(): boolean {
    return this.finished.size === this.remaining.size;
  }
}
