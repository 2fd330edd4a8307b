/** A `runStep` input for activity tests: a busybox step of run `runId` with a unique step name. */
import { randomUUID } from 'node:crypto';
import type { RunStepInput } from '../../activities/docker-step';

export function stepInputFor(runId: string, overrides: Partial<RunStepInput>): RunStepInput {
  return {
    runId,
    job: 'job',
    step: `step-${randomUUID().slice(0, 6)}`,
    attempt: 1,
    image: 'conveyor/busybox:latest',
    script: ['true'],
    environment: {},
    system: { CONVEYOR_RUN_ID: runId },
    workingDirectory: '/workspace',
    timeoutSeconds: 60,
    graceSeconds: 2,
    resources: { memoryBytes: 256 * 1024 * 1024, cpus: 1 },
    networkMode: 'none',
    prepareWorkspace: true,
    ...overrides,
  };
}
