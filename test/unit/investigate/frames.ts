/** A failure frame with defaults, for the investigation's unit tests. */
import type { FailureFrame, QuotedLine } from '../../../investigate/incident';

export function frame(overrides: Partial<FailureFrame> = {}): FailureFrame {
  return {
    runId: 'run-app-1',
    pipeline: 'app',
    runStatus: 'failed',
    job: 'build',
    step: 'compile',
    attempts: 1,
    jobAttempts: 1,
    exitCode: 1,
    reason: 'exit_code',
    otherFailedJobs: [],
    logExcerpt: [],
    timeline: [],
    changes: [],
    retries: [],
    infrastructure: [],
    inputs: [],
    ...overrides,
  };
}

export function line(text: string, stream: 'stdout' | 'stderr' = 'stderr'): QuotedLine {
  return { ts: '2026-01-01T00:00:00.000Z', stream, job: 'build', step: 'compile', attempt: 1, line: text };
}
