import { parseExpression, usesStatusFunction } from './expression';
import { decideJob, type FinishedJob } from './job-condition';
import type { JobModel, PipelineModel } from './model';
import { ReadySet } from './ready-set';

/** Why the scheduler cancels a job. */
export type CancelReason = 'fail_fast' | 'cancelled' | 'run_timed_out';

/** What the run should do with one job, in the order the decisions are returned. */
export type SchedulerDecision =
  | { kind: 'start'; job: string }
  | { kind: 'skip'; job: string; reason: 'condition_false' | 'upstream_failed'; message?: string }
  /** `running`: cancel the running job (it reports back with `finished`); else it is final at once. */
  | { kind: 'cancel'; job: string; reason: CancelReason; running: boolean };

/** How a run is stopping, if it is. */
type Stopping = { reason: 'cancelled' | 'run_timed_out'; graceOver: boolean };

/**
 * The run's scheduler (docs/runs.md "Job states"): given the pipeline and the events of a run — jobs finishing, the
 * run being cancelled or timing out, the cleanup grace ending — it says which jobs start, which are skipped and
 * which are cancelled. Pure and deterministic, so the run workflow drives it in a thin loop and it is unit-tested
 * without Temporal.
 *
 * - A job is decided the moment all its dependencies have finished (no level barriers): it starts if its `if:`
 *   (default `success()`) holds and a slot is free within the run's `max_parallel` and its matrix's
 *   `max_parallel`; otherwise it waits for a slot, or is skipped.
 * - When a matrix expansion with `fail_fast` fails, its running siblings are cancelled and the undecided ones end
 *   `cancelled` (`fail_fast`).
 * - When the run is cancelled (or times out), running jobs are cancelled unless their `if:` still holds with
 *   `cancelled()` true (`always()`, `cancelled()`), and jobs that become ready run only if theirs does — cleanup
 *   jobs, as in GitHub Actions; every other job ends `cancelled`. When the cleanup grace ends, the cleanup jobs
 *   are cancelled too.
 *
 * Each finished job costs O(its dependents) plus the jobs waiting for a slot.
 */
export class RunScheduler {
  private readonly jobs = new Map<string, JobModel>();
  private readonly ready: ReadySet;
  private readonly results: Record<string, FinishedJob> = {};
  private readonly running = new Set<string>();
  private readonly runningPerMatrix = new Map<string, number>();
  private readonly failedMatrices = new Set<string>();
  /** Ready jobs not yet decided, or waiting for a slot, in the order they became ready. */
  private waiting: string[] = [];
  private stopping: Stopping | undefined;

  /**
   * @param pipeline the run's jobs, their run-level `max_parallel` and what their conditions may read.
   * @param reused jobs whose outcome a re-run takes over: final the moment they become ready, never started.
   */
  constructor(
    private readonly pipeline: Pick<PipelineModel, 'jobs' | 'maxParallel' | 'globalEnv' | 'variables'>,
    private readonly reused: Readonly<Record<string, FinishedJob>> = {},
  ) {
    const dependsOn: Record<string, string[]> = {};
    const dependents: Record<string, string[]> = {};
    for (const job of pipeline.jobs) {
      this.jobs.set(job.name, job);
      dependsOn[job.name] = job.dependsOn;
      dependents[job.name] ??= [];
      for (const dependency of new Set(job.dependsOn)) (dependents[dependency] ??= []).push(job.name);
    }
    this.ready = new ReadySet({ jobs: pipeline.jobs.map((job) => job.name), dependsOn, dependents });
  }

  /** The first decisions of a run: its root jobs. */
  start(): SchedulerDecision[] {
    this.waiting.push(...this.ready.roots());
    return this.decideWaiting();
  }

  /** Jobs that finished (in the order they did), with their outcomes; returns what to do next. */
  finished(outcomes: ReadonlyArray<{ job: string; outcome: FinishedJob }>): SchedulerDecision[] {
    const decisions: SchedulerDecision[] = [];
    for (const { job, outcome } of outcomes) {
      if (!this.running.delete(job)) continue;
      const model = this.jobs.get(job)!;
      this.runningPerMatrix.set(model.baseName, (this.runningPerMatrix.get(model.baseName) ?? 1) - 1);
      if (outcome.result === 'failed' && model.strategy?.failFast && !this.stopping) {
        this.failedMatrices.add(model.baseName);
        for (const sibling of this.running) {
          if (this.jobs.get(sibling)?.baseName === model.baseName) {
            decisions.push({ kind: 'cancel', job: sibling, reason: 'fail_fast', running: true });
          }
        }
      }
      this.finish(job, outcome);
    }
    decisions.push(...this.decideWaiting());
    return decisions;
  }

  /**
   * The run was cancelled or timed out: running jobs are cancelled unless they are cleanup jobs, and from now on
   * only cleanup jobs start. Calling it again changes nothing.
   */
  stop(reason: 'cancelled' | 'run_timed_out'): SchedulerDecision[] {
    if (this.stopping) return [];
    this.stopping = { reason, graceOver: false };
    const decisions: SchedulerDecision[] = [];
    for (const job of this.running) {
      if (!this.isCleanup(job)) decisions.push({ kind: 'cancel', job, reason, running: true });
    }
    decisions.push(...this.decideWaiting());
    return decisions;
  }

  /** The cleanup grace after a stop is over: every job still running is cancelled, and nothing starts. */
  graceOver(): SchedulerDecision[] {
    if (!this.stopping || this.stopping.graceOver) return [];
    this.stopping.graceOver = true;
    const decisions: SchedulerDecision[] = [...this.running].map((job) => ({
      kind: 'cancel' as const,
      job,
      reason: this.stopping!.reason,
      running: true,
    }));
    decisions.push(...this.decideWaiting());
    return decisions;
  }

  /** Whether every job has a final state. */
  get done(): boolean {
    return this.ready.done;
  }

  /** Whether the run is stopping (cancelled or timed out). */
  get stopReason(): 'cancelled' | 'run_timed_out' | undefined {
    return this.stopping?.reason;
  }

  /** Names of the jobs running now. */
  runningJobs(): string[] {
    return [...this.running];
  }

  /** The outcomes of the finished jobs so far, by name. */
  outcomes(): Readonly<Record<string, FinishedJob>> {
    return this.results;
  }

  private finish(job: string, outcome: FinishedJob): void {
    this.results[job] = outcome;
    this.waiting.push(...this.ready.complete(job));
  }

  /** Decides every waiting job, including those that become ready during the pass. */
  private decideWaiting(): SchedulerDecision[] {
    const decisions: SchedulerDecision[] = [];
    const stillWaiting: string[] = [];
    // Jobs finished during the pass (skipped, cancelled, reused) append their dependents to `waiting`.
    for (let i = 0; i < this.waiting.length; i += 1) {
      const name = this.waiting[i]!;
      const job = this.jobs.get(name)!;
      const decision = this.decide(job);
      if (decision === 'wait') {
        stillWaiting.push(name);
      } else if (decision === 'reused') {
        this.finish(name, this.reused[name]!);
      } else if (decision.kind === 'start') {
        this.running.add(name);
        this.runningPerMatrix.set(job.baseName, (this.runningPerMatrix.get(job.baseName) ?? 0) + 1);
        decisions.push(decision);
      } else {
        decisions.push(decision);
        this.finish(name, decision.kind === 'skip' ? { result: 'skipped', reason: decision.reason } : cancelled);
      }
    }
    this.waiting = stillWaiting;
    return decisions;
  }

  private decide(job: JobModel): SchedulerDecision | 'wait' | 'reused' {
    if (this.reused[job.name]) return 'reused';
    if (this.stopping) {
      const { reason, graceOver } = this.stopping;
      const runs = !graceOver && decideJob(this.pipeline, job, this.results, { cancelled: true }).run;
      if (!runs) return { kind: 'cancel', job: job.name, reason, running: false };
      return this.hasSlot(job) ? { kind: 'start', job: job.name } : 'wait';
    }
    if (job.strategy?.failFast && this.failedMatrices.has(job.baseName)) {
      return { kind: 'cancel', job: job.name, reason: 'fail_fast', running: false };
    }
    const decision = decideJob(this.pipeline, job, this.results);
    if (!decision.run) return { kind: 'skip', job: job.name, reason: decision.reason, message: decision.message };
    return this.hasSlot(job) ? { kind: 'start', job: job.name } : 'wait';
  }

  private hasSlot(job: JobModel): boolean {
    return (
      this.running.size < (this.pipeline.maxParallel ?? Infinity) &&
      (this.runningPerMatrix.get(job.baseName) ?? 0) < (job.strategy?.maxParallel ?? Infinity)
    );
  }

  /** A running job keeps running after a stop when its `if:` uses a status function and holds with `cancelled()`. */
  private isCleanup(name: string): boolean {
    const job = this.jobs.get(name)!;
    if (job.if === undefined) return false;
    const parsed = parseExpression(job.if);
    if (!parsed.ok || !usesStatusFunction(parsed.tree)) return false;
    return decideJob(this.pipeline, job, this.results, { cancelled: true }).run;
  }
}

const cancelled: FinishedJob = { result: 'cancelled' };
