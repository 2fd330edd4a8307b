import type { ExpressionContext, JobResult } from './expression-context';
import { isTruthy } from './expression-coercion';
import { evaluateExpression, parseExpression, usesStatusFunction } from './expression';
import type { JobModel, PipelineModel } from './model';

/** What the run decides for a job whose dependencies have all finished. */
export type JobDecision =
  { run: true } | { run: false; reason: 'condition_false' | 'upstream_failed'; message?: string };

/** A finished job's outcome as the run records it. */
export interface FinishedJob {
  result: JobResult;
  /** For skipped jobs: why. A job skipped because its own upstream failed counts as a failure downstream. */
  reason?: 'condition_false' | 'upstream_failed';
}

/**
 * Decides whether a ready job runs. Without an `if:`, it runs when every dependency succeeded; otherwise it is
 * skipped, as `condition_false` when a dependency was itself skipped by its condition (and none failed), else as
 * `upstream_failed`. With an
 * `if:` that calls no status function, it is `success() && (if)`; with one (`always()`, `failure()`, …) the
 * expression alone decides. `results` is keyed by expanded job name; `needs.<job>` in the expression uses the
 * name as written and sums up a matrix job's expansions. An expression that fails to evaluate skips the job
 * with `condition_false` and the message.
 */
export function decideJob(
  pipeline: Pick<PipelineModel, 'jobs' | 'globalEnv' | 'variables'>,
  job: JobModel,
  results: Readonly<Record<string, FinishedJob>>,
  options: { cancelled?: boolean } = {},
): JobDecision {
  const upstream = job.dependsOn.map((name) => results[name] ?? { result: 'cancelled' as const });
  const failure = upstream.some(
    (entry) => entry.result === 'failed' || (entry.result === 'skipped' && entry.reason === 'upstream_failed'),
  );
  const cancelled = options.cancelled === true || upstream.some((entry) => entry.result === 'cancelled');
  const success = upstream.every((entry) => entry.result === 'success') && options.cancelled !== true;
  // A dependency skipped by its own condition passes that reason on; anything else that is not success is a failure upstream.
  const blocked: JobDecision =
    upstream.some((entry) => entry.result === 'skipped' && entry.reason === 'condition_false') && !failure && !cancelled
      ? { run: false, reason: 'condition_false' }
      : { run: false, reason: 'upstream_failed' };
  if (job.if === undefined) return success ? { run: true } : blocked;
  const context = conditionContext(pipeline, job, results, { success, failure, cancelled });
  const parsed = parseExpression(job.if);
  if (!parsed.ok) return { run: false, reason: 'condition_false', message: parsed.message };
  if (!usesStatusFunction(parsed.tree) && !success) return blocked;
  const evaluated = evaluateExpression(job.if, context);
  if (!evaluated.ok) return { run: false, reason: 'condition_false', message: evaluated.message };
  return isTruthy(evaluated.value) ? { run: true } : { run: false, reason: 'condition_false' };
}

/** The expression context of a job's `if:`: `env`, `vars`, `matrix`, `needs` and the status functions. */
export function conditionContext(
  pipeline: Pick<PipelineModel, 'jobs' | 'globalEnv' | 'variables'>,
  job: JobModel,
  results: Readonly<Record<string, FinishedJob>>,
  status: { success: boolean; failure: boolean; cancelled: boolean },
): ExpressionContext {
  const needs: Record<string, { result: JobResult }> = {};
  const byBase = new Map<string, JobResult[]>();
  for (const name of job.dependsOn) {
    const dependency = pipeline.jobs.find((candidate) => candidate.name === name);
    const base = dependency?.baseName ?? name;
    const list = byBase.get(base) ?? [];
    list.push(results[name]?.result ?? 'cancelled');
    byBase.set(base, list);
  }
  for (const [base, list] of byBase) needs[base] = { result: combineResults(list) };
  const context: ExpressionContext = {
    env: { ...pipeline.globalEnv, ...job.environment },
    vars: { ...(pipeline.variables ?? {}) },
    needs,
    status,
  };
  if (job.matrix) context.matrix = job.matrix;
  return context;
}

/** One result for a matrix job's expansions: failed if any failed, else cancelled if any was, else skipped if all were, else success. */
export function combineResults(results: readonly JobResult[]): JobResult {
  if (results.includes('failed')) return 'failed';
  if (results.includes('cancelled')) return 'cancelled';
  if (results.length > 0 && results.every((result) => result === 'skipped')) return 'skipped';
  return 'success';
}
