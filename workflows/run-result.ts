/**
 * What a run hands out about itself — its result (or failure details) and each page of its `status` query — kept
 * well under Temporal's payload limits however many jobs the run has (docs/architecture.md, "What crosses
 * Temporal"): everything while it fits, else counts plus the jobs that need attention, with the rest by page.
 * Pure functions, so they are unit-tested at 5,000 jobs without Temporal.
 */
import type { JobState, JobStatus, PipelineRunStatus, StatusPageRequest } from './pipeline-run-messages';

/** The most a run's result (or its failure details) holds, in bytes of JSON (Temporal warns at 512 KiB). */
export const resultBudgetBytes = 256 * 1024;
/** The most one page of the `status` query holds, in bytes of JSON. */
export const statusPageBudgetBytes = 1024 * 1024;

/** How many jobs are in each state. */
export function jobCounts(jobs: Readonly<Record<string, JobState>>): Partial<Record<JobStatus, number>> {
  const counts: Partial<Record<JobStatus, number>> = {};
  for (const job of Object.values(jobs)) counts[job.status] = (counts[job.status] ?? 0) + 1;
  return counts;
}

/**
 * The run's result: the whole status while it fits in `budgetBytes`; otherwise the counts and, in declaration
 * order, as many of the jobs that did not succeed as fit (their steps cut to the failing one), flagged `partial`.
 */
export function runResult(status: PipelineRunStatus, budgetBytes = resultBudgetBytes): PipelineRunStatus {
  const entries = Object.entries(status.jobs);
  const whole: PipelineRunStatus = { ...status, counts: jobCounts(status.jobs), totalJobs: entries.length };
  let size = jsonSize(whole);
  if (size <= budgetBytes) return whole;
  const summary: PipelineRunStatus = { ...whole, jobs: {}, partial: true };
  size = jsonSize(summary);
  for (const [name, job] of entries) {
    if (job.status === 'success') continue;
    const brief = briefJob(job);
    const added = jsonSize(brief) + name.length + 8;
    if (size + added > budgetBytes) break;
    summary.jobs[name] = brief;
    size += added;
  }
  return summary;
}

/**
 * One page of the status: jobs from `offset` in declaration order, at most `limit` of them and as many as fit in
 * `budgetBytes` (always at least one), with the counts, the total and the offset of the next page if any.
 */
export function statusPage(
  status: PipelineRunStatus,
  request: StatusPageRequest = {},
  budgetBytes = statusPageBudgetBytes,
): PipelineRunStatus {
  const names = Object.keys(status.jobs);
  const offset = Math.max(0, Math.floor(request.offset ?? 0));
  const limit = Math.max(1, Math.floor(request.limit ?? names.length));
  const page: PipelineRunStatus = { ...status, jobs: {}, counts: jobCounts(status.jobs), totalJobs: names.length };
  let size = jsonSize(page) + 32;
  let index = offset;
  for (; index < names.length && index < offset + limit; index += 1) {
    const name = names[index]!;
    const job = status.jobs[name]!;
    const added = jsonSize(job) + name.length + 8;
    if (index > offset && size + added > budgetBytes) break;
    page.jobs[name] = job;
    size += added;
  }
  if (index < names.length) page.nextOffset = index;
  if (offset > 0 || page.nextOffset !== undefined) page.partial = true;
  return page;
}

/** One line for the run's failure: the first failed job, why, and how many others failed. */
export function failureMessage(status: PipelineRunStatus): string {
  const failed = Object.entries(status.jobs).filter(([, job]) => job.status === 'failed');
  const [first] = failed;
  if (!first) return `pipeline '${status.pipeline}' failed`;
  const [name, job] = first;
  const where = job.failedStep ? ` in step '${job.failedStep}'` : '';
  const why = [job.reason, job.exitCode !== undefined ? `exit code ${job.exitCode}` : undefined].filter(Boolean);
  const others = failed.length > 1 ? ` and ${failed.length - 1} other job(s) failed` : '';
  return `pipeline '${status.pipeline}' failed: job '${name}' failed${where}${why.length ? ` (${why.join(', ')})` : ''}${others}`;
}

/** A job without the steps that went well, for a summary. */
function briefJob(job: JobState): JobState {
  const steps = job.steps.filter((step) => step.status !== 'success' && step.status !== 'pending');
  return { ...job, steps: steps.length > 0 ? steps.slice(0, 1) : [] };
}

function jsonSize(value: unknown): number {
  return JSON.stringify(value).length;
}
