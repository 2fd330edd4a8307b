/**
 * `conveyor rerun RUN [--failed]`: a new run of the same definition and variable snapshot — all of its jobs, or
 * with `--failed` only the failed, cancelled and skipped ones, taking over the successful jobs' results.
 */
import type { Command } from 'commander';
import type { JobState, PipelineRunInput } from '../../workflows/pipeline-run-messages';
import { CliError } from '../cli-error';

interface RerunFlags {
  failed?: boolean;
  detach?: boolean;
  json?: boolean;
}

/** Registers `conveyor rerun`. */
export function registerRerunCommand(program: Command): void {
  program
    .command('rerun')
    .description('run a finished run again with the same definition and variables: every job, or only the failed ones')
    .argument('<run>', 'run id')
    .option('--failed', 'reuse the successful jobs and run only the failed, cancelled and skipped ones')
    .option('--detach', 'start the run and print its id without waiting')
    .option('--json', 'print a JSON summary as the last line of output')
    .action(async (runId: string, flags: RerunFlags) => {
      const [{ withClient }, { fetchRunInput, fetchRunStatus }, { startAndFollow }] = await Promise.all([
        import('../temporal.js'),
        import('../runs.js'),
        import('../run-follow.js'),
      ]);
      const { config, input } = await withClient(async (client, config) => {
        const previous = await fetchRunInput(client, runId);
        // A re-run of a re-run starts from the definition, not from what the earlier re-run took over.
        const input: PipelineRunInput = { ...previous, trigger: 'rerun', rerunOf: runId, reuse: undefined };
        if (!flags.failed) return { config, input };
        const status = await fetchRunStatus(client, runId);
        if (status.status === 'running') {
          throw new CliError(`run '${runId}' is still running; wait for it or cancel it`);
        }
        const reuse: Record<string, JobState> = Object.fromEntries(
          Object.entries(status.jobs).filter(([, job]) => job.status === 'success'),
        );
        if (Object.keys(reuse).length === Object.keys(status.jobs).length) {
          throw new CliError(`run '${runId}' has no failed or skipped jobs to re-run (without --failed, all run)`);
        }
        return { config, input: { ...input, reuse } };
      });
      const status = await startAndFollow(config, input, flags);
      if (status && status.status !== 'success') process.exitCode = 1;
    });
}
