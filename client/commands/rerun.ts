/**
 * `conveyor rerun RUN --failed`: a new run of the same definition and variable snapshot that takes over the
 * successful jobs' results and runs only the failed, cancelled and skipped ones.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../workers/config';
import type { JobState } from '../../workflows/pipeline-run-messages';
import { CliError } from '../cli-error';
import { fetchRunInput, fetchRunStatus } from '../runs';
import { connectClient } from '../temporal';
import { startAndFollow } from './run';

/** Registers `conveyor rerun`. */
export function registerRerunCommand(program: Command): void {
  program
    .command('rerun')
    .description('re-run the failed and skipped jobs of a finished run')
    .argument('<run>', 'run id')
    .option('--failed', 'reuse successful jobs and run only the others (required)')
    .option('--detach', 'start the run and print its id without waiting')
    .option('--json', 'print a JSON summary as the last line of output')
    .action(async (runId: string, flags: { failed?: boolean; detach?: boolean; json?: boolean }) => {
      if (!flags.failed) throw new CliError('rerun needs --failed (re-run the failed and skipped jobs)', 2);
      const config = loadConfig();
      const { client, connection } = await connectClient(config);
      let reuse: Record<string, JobState>;
      let input;
      try {
        input = await fetchRunInput(client, runId);
        const previous = await fetchRunStatus(client, runId);
        if (previous.status === 'running')
          throw new CliError(`run '${runId}' is still running; wait for it or cancel it`);
        reuse = Object.fromEntries(Object.entries(previous.jobs).filter(([, job]) => job.status === 'success'));
        if (Object.keys(reuse).length === Object.keys(previous.jobs).length) {
          throw new CliError(`run '${runId}' has no failed or skipped jobs to re-run`);
        }
      } finally {
        await connection.close();
      }
      const status = await startAndFollow(config, { ...input, trigger: 'rerun', reuse, rerunOf: runId }, flags);
      if (status && status.status !== 'success') process.exitCode = 1;
    });
}
