/**
 * `conveyor rerun RUN [--failed]`: a new run of the same definition and variable snapshot — all of its jobs, or
 * with `--failed` only the failed, cancelled and skipped ones, taking over the successful jobs' results.
 */
import type { Command } from 'commander';

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
      // Loaded here, not at the top, so `conveyor --help` loads none of this (docs/runs.md#start-up).
      const [{ withClient }, { rerunInput }, { startAndFollow }] = await Promise.all([
        import('../temporal.js'),
        import('../run-control.js'),
        import('../run-follow.js'),
      ]);
      const { config, input } = await withClient(async (client, config) => ({
        config,
        input: await rerunInput(client, runId, { failedOnly: Boolean(flags.failed), trigger: 'rerun' }),
      }));
      const status = await startAndFollow(config, input, flags);
      if (status && status.status !== 'success') process.exitCode = 1;
    });
}
