/**
 * What changed since the last successful run of the same pipeline (docs/investigations.md, "Frame"): a diff of
 * the failing run's definition, variables and input artifacts against that run's. Pure: the frame activity feeds
 * it both runs' inputs and results.
 */
import type { JobModel, PipelineModel, StepModel } from '../pipeline/model';
import type { Change } from './incident';

/** Variable names whose values are never shown, even when they are plain `--var` values. */
const secretLike = /secret|token|password|passwd|credential|private|api[_-]?key|auth/i;

/** A variable's value as a report may show it. */
export function shownValue(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return secretLike.test(name) ? '••••••' : value;
}

/** The runtime variables (`--var`) that differ, by name. */
export function diffVariables(before: Record<string, string>, after: Record<string, string>): Change[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .filter((name) => before[name] !== after[name])
    .map((name) => ({
      kind: 'variable' as const,
      path: `vars.${name}`,
      before: shownValue(name, before[name]),
      after: shownValue(name, after[name]),
    }));
}

/** What a job's definition is compared on (its steps separately). */
function jobFields(job: JobModel): Record<string, string> {
  return {
    environment: envText(job.environment),
    timeout: String(job.timeoutSeconds),
    retry_count: String(job.retryCount),
    memory: String(job.resources.memoryBytes),
    cpus: String(job.resources.cpus),
    network: job.network,
    depends_on: job.dependsOn.join(', '),
    if: job.if ?? '',
    artifacts: job.artifacts.map((artifact) => `${artifact.name}: ${artifact.paths.join(' ')}`).join('; '),
  };
}

function stepFields(step: StepModel): Record<string, string> {
  return {
    script: step.script.join('\n'),
    image: step.image,
    environment: envText(step.environment),
    working_directory: step.workingDirectory,
    timeout: String(step.timeoutSeconds),
    retry_count: String(step.retryCount),
    continue_on_failure: String(step.continueOnFailure),
  };
}

function envText(environment: Record<string, string>): string {
  return Object.keys(environment)
    .sort()
    .map((name) => `${name}=${shownValue(name, environment[name])}`)
    .join(' ');
}

function fieldChanges(
  base: string,
  before: Record<string, string>,
  after: Record<string, string>,
  where: { job?: string; step?: string },
): Change[] {
  return Object.keys(after)
    .filter((field) => before[field] !== after[field])
    .map((field) => ({
      kind: 'definition' as const,
      path: `${base}.${field}`,
      ...where,
      before: before[field],
      after: after[field],
    }));
}

/**
 * The definition changes between two runs of a pipeline: global environment, jobs added or removed, and each job's
 * fields and steps (by name; a step added, removed or moved is a change of the job's step list).
 */
export function diffDefinitions(before: PipelineModel, after: PipelineModel): Change[] {
  const changes: Change[] = [];
  if (envText(before.globalEnv) !== envText(after.globalEnv)) {
    changes.push({
      kind: 'definition',
      path: 'global_env',
      before: envText(before.globalEnv),
      after: envText(after.globalEnv),
    });
  }
  const beforeJobs = new Map(before.jobs.map((job) => [job.name, job]));
  for (const job of after.jobs) {
    const old = beforeJobs.get(job.name);
    const base = `jobs.${job.name}`;
    if (!old) {
      changes.push({ kind: 'definition', path: base, job: job.name, after: 'added' });
      continue;
    }
    changes.push(...fieldChanges(base, jobFields(old), jobFields(job), { job: job.name }));
    const oldSteps = old.steps.map((step) => step.name).join(', ');
    const newSteps = job.steps.map((step) => step.name).join(', ');
    if (oldSteps !== newSteps) {
      changes.push({ kind: 'definition', path: `${base}.steps`, job: job.name, before: oldSteps, after: newSteps });
    }
    const oldByName = new Map(old.steps.map((step) => [step.name, step]));
    job.steps.forEach((step, index) => {
      const previous = oldByName.get(step.name);
      if (!previous) return;
      changes.push(
        ...fieldChanges(`${base}.steps[${index}]`, stepFields(previous), stepFields(step), {
          job: job.name,
          step: step.name,
        }),
      );
    });
  }
  for (const job of before.jobs) {
    if (!after.jobs.some((other) => other.name === job.name)) {
      changes.push({
        kind: 'definition',
        path: `jobs.${job.name}`,
        job: job.name,
        before: 'present',
        after: 'removed',
      });
    }
  }
  return changes;
}

/** Input artifacts (upstream job, name, digest) whose digest differs from the green run's, or that are new. */
export function diffInputs(
  before: readonly { job: string; name: string; digest: string }[],
  after: readonly { job: string; name: string; digest: string }[],
): Change[] {
  const old = new Map(before.map((input) => [`${input.job}/${input.name}`, input.digest]));
  return after
    .filter((input) => old.get(`${input.job}/${input.name}`) !== input.digest)
    .map((input) => ({
      kind: 'input_artifact' as const,
      path: `inputs.${input.job}/${input.name}`,
      job: input.job,
      before: old.get(`${input.job}/${input.name}`),
      after: input.digest,
    }));
}

/**
 * Whether a definition change can explain a failure of `job` at `step`: a change of the failing job itself (its
 * own fields, or a step at or before the failing one), of the global environment, or of a variable.
 */
export function changeReachesFailure(change: Change, model: PipelineModel, job?: string, step?: string): boolean {
  if (change.kind === 'variable' || change.path === 'global_env') return true;
  if (change.kind !== 'definition' || change.job !== job) return false;
  if (!change.step) return true;
  const steps = model.jobs.find((candidate) => candidate.name === job)?.steps.map((candidate) => candidate.name) ?? [];
  const failing = step === undefined ? steps.length - 1 : steps.indexOf(step);
  const changed = steps.indexOf(change.step);
  return changed >= 0 && (failing < 0 || changed <= failing);
}
