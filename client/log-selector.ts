/**
 * `conveyor logs RUN [JOB[/STEP]]`: which jobs and steps a selector names, checked against the run's definition
 * so a typo is an error that lists the valid names instead of an empty output.
 */
import { didYouMean, listNames } from '../pipeline/did-you-mean';
import type { PipelineModel } from '../pipeline/model';
import { CliError } from './cli-error';

/** What a selector resolved to: the (expanded) job names it covers, and the step, when it names one. */
export interface LogSelection {
  jobs?: Set<string>;
  step?: string;
}

/**
 * Resolves `JOB` or `JOB/STEP` against a run's pipeline. A job is its name after matrix expansion
 * (`test (node=18)`) or its name as written (`test`: every expansion). The first slash splits (job names hold none).
 */
export function resolveLogSelector(runId: string, pipeline: PipelineModel, selector?: string): LogSelection {
  if (!selector) return {};
  const slash = selector.indexOf('/');
  const jobName = slash < 0 ? selector : selector.slice(0, slash);
  const stepName = slash < 0 ? undefined : selector.slice(slash + 1);
  const jobs = pipeline.jobs.filter((job) => job.name === jobName || job.baseName === jobName);
  if (jobs.length === 0) {
    const names = [...new Set(pipeline.jobs.flatMap((job) => [job.baseName, job.name]))];
    throw new CliError(
      `run '${runId}' has no job '${jobName}'${didYouMean(jobName, names)}; its jobs are: ${listNames(names)}`,
      2,
    );
  }
  if (stepName !== undefined) {
    const steps = [...new Set(jobs.flatMap((job) => job.steps.map((step) => step.name)))];
    if (!steps.includes(stepName)) {
      throw new CliError(
        `job '${jobName}' of run '${runId}' has no step '${stepName}'${didYouMean(stepName, steps)}; ` +
          `its steps are: ${listNames(steps)}`,
        2,
      );
    }
  }
  return { jobs: new Set(jobs.map((job) => job.name)), step: stepName };
}
