/**
 * Deciding what a run does next: which jobs became ready, and whether a ready job runs or is skipped.
 * Pure and deterministic, so it is safe in workflow code and testable without a server.
 */
import type { JobModel } from '../pipeline/model';
import type { JobReason, JobState } from './pipeline-run-messages';

/** Tracks unfinished dependencies per job; each completion costs O(its dependents). */
export interface ReadySet {
  /** Jobs with no dependencies. */
  initial(): string[];
  /** Marks a job finished (in any state) and returns the jobs that thereby became ready. */
  complete(name: string): string[];
}

/** Builds the ready-set of a DAG of jobs (the parser has already rejected cycles and unknown names). */
export function createReadySet(jobs: JobModel[]): ReadySet {
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const job of jobs) {
    remaining.set(job.name, job.dependsOn.length);
    for (const dependency of job.dependsOn) {
      const list = dependents.get(dependency) ?? [];
      list.push(job.name);
      dependents.set(dependency, list);
    }
  }
  return {
    initial: () => jobs.filter((job) => job.dependsOn.length === 0).map((job) => job.name),
    complete(name) {
      const ready: string[] = [];
      for (const dependent of dependents.get(name) ?? []) {
        const left = (remaining.get(dependent) ?? 0) - 1;
        remaining.set(dependent, left);
        if (left === 0) ready.push(dependent);
      }
      return ready;
    },
  };
}

/**
 * Whether a job whose dependencies have all finished runs, or why it is skipped. Without an `if`, a job runs only
 * when every dependency succeeded; a failed or cancelled dependency skips it as `upstream_failed`, and a skipped
 * dependency skips it with the same reason that dependency carried forward.
 */
export function decideReadyJob(job: JobModel, jobs: Record<string, JobState>): 'run' | JobReason {
  for (const dependency of job.dependsOn) {
    const state = jobs[dependency];
    if (!state || state.status === 'success') continue;
    if (state.status === 'skipped' && state.reason === 'condition_false') return 'condition_false';
    return 'upstream_failed';
  }
  return 'run';
}
