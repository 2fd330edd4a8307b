/** How the CLI describes a finished run: one line for a human, one JSON object for scripts. */
import type { JobState, PipelineRunStatus } from '../workflows/pipeline-run-messages';

/** One line naming the first failing job, its step and why: `job 'test', step 'unit' exited with code 2`. */
export function describeFailure(status: PipelineRunStatus): string {
  const failed = Object.entries(status.jobs).find(([, job]) => job.status === 'failed');
  if (!failed) {
    const cancelled = Object.entries(status.jobs).filter(([, job]) => job.status === 'cancelled');
    return cancelled.length > 0 ? `cancelled (${cancelled.map(([name]) => name).join(', ')})` : status.status;
  }
  const [name, job] = failed;
  return `job '${name}'${job.failedStep ? `, step '${job.failedStep}'` : ''} ${describeJobFailure(job)}`;
}

function describeJobFailure(job: JobState): string {
  switch (job.reason) {
    case 'timed_out':
      return 'timed out';
    case 'image_not_found':
    case 'infrastructure':
      return `could not run: ${job.message ?? job.reason}`;
    case 'command_not_found':
      return `exited with code ${job.exitCode} (command not found)`;
    case 'not_executable':
      return `exited with code ${job.exitCode} (command not executable)`;
    case 'oom_killed':
      return `was killed for running out of memory (exit code ${job.exitCode})`;
    case 'signal':
      return `was killed by a signal (exit code ${job.exitCode})`;
    case 'run_timed_out':
      return 'was stopped by the run timeout';
    case 'artifact_missing':
    case 'artifact_corrupted':
    case 'artifact_unsafe':
    case 'store_full':
    case 'image_build_failed':
      return `failed (${job.reason}): ${job.message ?? 'see conveyor status'}`;
    default:
      return `exited with code ${job.exitCode}`;
  }
}

/** The `--json` summary: `{runId, status, jobs: {NAME: {status, reason, exitCode, startedAt, finishedAt, steps}}}`. */
export function toJsonSummary(runId: string, status: PipelineRunStatus): Record<string, unknown> {
  return {
    runId,
    status: status.status,
    jobs: Object.fromEntries(
      Object.entries(status.jobs).map(([name, job]) => [
        name,
        {
          status: job.status,
          reason: job.reason ?? null,
          exitCode: job.exitCode ?? null,
          startedAt: job.startedAt ?? null,
          finishedAt: job.finishedAt ?? null,
          steps: job.steps.map((step) => ({
            name: step.name,
            status: step.status,
            attempts: step.attempts,
            exitCode: step.exitCode ?? null,
          })),
          // Digests and sizes of what the job stored (docs/artifacts.md).
          artifacts: Object.fromEntries(
            Object.entries(job.artifacts ?? {}).map(([artifact, { digest, size, files }]) => [
              artifact,
              { digest, size, files },
            ]),
          ),
        },
      ]),
    ),
  };
}
