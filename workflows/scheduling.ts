/**
 * Deciding whether a ready job (all its dependencies finished) runs or is skipped, from its `if:` and how its
 * dependencies ended. Pure and deterministic, so it is safe in workflow code and testable without a server.
 */
import { evaluateExpression, isTruthy, parseExpression, usesStatusFunction } from '../pipeline';
import type { JobModel, JobResult } from '../pipeline';
import type { JobReason, JobState } from './pipeline-run-messages';

/** What the run knows when it decides a job. */
export interface DecisionContext {
  /** Every job's state so far, by name. */
  jobs: Record<string, JobState>;
  globalEnv: Record<string, string>;
  vars: Record<string, string>;
  /** True once the run is being cancelled. */
  cancelled: boolean;
}

/** The outcome of deciding a ready job. */
export type JobDecision = { run: true } | { run: false; reason: JobReason; message?: string };

/**
 * Whether a ready job runs. Without an `if`, it runs only when every dependency succeeded; otherwise it is skipped
 * as `upstream_failed`, or `condition_false` when a dependency was itself skipped by its condition. With an `if`
 * that calls a status function (`always()`, `failure()`, …) the expression alone decides; any other `if` is
 * checked only after every dependency succeeded (as if joined with `success() &&`).
 */
export function decideReadyJob(job: JobModel, context: DecisionContext): JobDecision {
  const results = job.dependsOn.map((name) => resultOf(context.jobs[name]));
  const allSucceeded = results.every((result) => result === 'success');
  const anyFailed = results.some((result) => result === 'failed' || result === 'cancelled');
  const upstreamSkip = (): JobDecision => {
    const conditionSkipped = job.dependsOn.some((name) => context.jobs[name]?.reason === 'condition_false');
    return { run: false, reason: !anyFailed && conditionSkipped ? 'condition_false' : 'upstream_failed' };
  };
  if (!job.if) return allSucceeded ? { run: true } : upstreamSkip();

  const parsed = parseExpression(job.if);
  const decidesItself = parsed.ok && usesStatusFunction(parsed.tree);
  if (!decidesItself && !allSucceeded) return upstreamSkip();
  const evaluated = evaluateExpression(job.if, {
    env: { ...context.globalEnv, ...job.environment },
    vars: context.vars,
    matrix: job.matrix ?? {},
    needs: needsOf(job, context.jobs),
    status: { success: allSucceeded && !context.cancelled, failure: anyFailed, cancelled: context.cancelled },
  });
  if (!evaluated.ok) {
    return { run: false, reason: 'condition_error', message: `if: ${job.if}: ${evaluated.message}` };
  }
  return isTruthy(evaluated.value) ? { run: true } : { run: false, reason: 'condition_false' };
}

/** `needs.<job>.result` for each dependency, by expanded name and, for matrix jobs, by the name as written. */
function needsOf(job: JobModel, jobs: Record<string, JobState>): Record<string, { result: JobResult }> {
  const needs: Record<string, { result: JobResult }> = {};
  const byBase = new Map<string, JobResult[]>();
  for (const name of job.dependsOn) {
    const result = resultOf(jobs[name]);
    needs[name] = { result };
    const base = jobs[name]?.baseName ?? name;
    byBase.set(base, [...(byBase.get(base) ?? []), result]);
  }
  for (const [base, results] of byBase) needs[base] ??= { result: combine(results) };
  return needs;
}

/** A matrix job as a whole: failed if any expansion failed, else cancelled, else success, else skipped. */
function combine(results: JobResult[]): JobResult {
  for (const result of ['failed', 'cancelled', 'success'] as const) if (results.includes(result)) return result;
  return 'skipped';
}

function resultOf(state: JobState | undefined): JobResult {
  switch (state?.status) {
    case 'success':
    case 'failed':
    case 'cancelled':
    case 'skipped':
      return state.status;
    default:
      return 'failed';
  }
}
