import type { PipelineModel } from './model';

/**
 * What a run records about its variables so a re-run resolves identically: the runtime variables, the system
 * values, and the resulting environments of every job and step — as templates, so secrets appear only as
 * `${secrets.NAME}`, never as values.
 */
export interface VariableSnapshot {
  /** `--var` values the pipeline was parsed with. */
  vars: Record<string, string>;
  /** System variable values the run used (parse time and run time). */
  system: Record<string, string>;
  /** The resolved global environment. */
  globalEnv: Record<string, string>;
  /** Per job: its environment and each step's. */
  jobs: Record<string, { environment: Record<string, string>; steps: Record<string, Record<string, string>> }>;
}

/**
 * Builds the variable snapshot of a parsed pipeline for a run. Pass the same `system` values the run uses; any
 * key named like a secret reference is dropped defensively. Re-parse with `{ vars: snapshot.vars, system:
 * snapshot.system }` to reproduce the model.
 */
export function createVariableSnapshot(
  pipeline: PipelineModel,
  system: Readonly<Record<string, string>> = {},
): VariableSnapshot {
  const jobs: VariableSnapshot['jobs'] = {};
  for (const job of pipeline.jobs) {
    const steps: Record<string, Record<string, string>> = {};
    for (const step of job.steps) steps[step.name] = { ...step.environment };
    jobs[job.name] = { environment: { ...job.environment }, steps };
  }
  const safeSystem = Object.fromEntries(Object.entries(system).filter(([name]) => !name.startsWith('secrets.')));
  return { vars: { ...(pipeline.variables ?? {}) }, system: safeSystem, globalEnv: { ...pipeline.globalEnv }, jobs };
}
