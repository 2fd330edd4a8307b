/** Builders of pipeline models for workflow tests, with the defaults the parser would fill in. */
import type { JobModel, PipelineModel, StepModel } from '../../pipeline/model';

/** A step running `script` on the busybox image. */
export function step(name: string, script: string[], overrides: Partial<StepModel> = {}): StepModel {
  return {
    name,
    script,
    image: 'conveyor/busybox:latest',
    environment: {},
    workingDirectory: '/workspace',
    timeoutSeconds: 60,
    retryCount: 0,
    retryOn: [],
    continueOnFailure: false,
    ...overrides,
  };
}

/** A job with the given steps and dependencies. */
export function job(name: string, steps: StepModel[], overrides: Partial<JobModel> = {}): JobModel {
  return {
    name,
    baseName: name,
    dependsOn: [],
    environment: {},
    timeoutSeconds: 300,
    retryCount: 0,
    resources: { memoryBytes: 256 * 1024 * 1024, cpus: 1 },
    network: 'none',
    artifacts: [],
    steps,
    ...overrides,
  };
}

/** A pipeline of jobs. */
export function pipeline(name: string, jobs: JobModel[], overrides: Partial<PipelineModel> = {}): PipelineModel {
  return { name, timeoutSeconds: 600, globalEnv: {}, jobs, ...overrides };
}
