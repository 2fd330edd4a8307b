/** `conveyor logs RUN [JOB[/STEP]] [-f] [--stream S]`: a run's step output from the log store. */
import { Option, type Command } from 'commander';
import type { LogsFlags } from '../run-logs';

/** Registers `conveyor logs`. */
export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("print a run's step output, optionally for one job or job/step")
    .argument('<run>', 'run id')
    .argument('[selector]', 'JOB or JOB/STEP (a matrix job by its name as written selects every expansion)')
    .option('-f, --follow', 'keep printing new lines until the run ends')
    .addOption(new Option('--stream <stream>', 'only this output stream').choices(['stdout', 'stderr']))
    .action(async (runId: string, selector: string | undefined, flags: LogsFlags) => {
      // Loaded here, not at the top, so `conveyor --help` loads none of this (docs/runs.md#start-up).
      const { printRunLogs } = await import('../run-logs.js');
      await printRunLogs(runId, selector, flags);
    });
}
