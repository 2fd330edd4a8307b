/** `conveyor list`: recent runs from Temporal visibility, filterable by pipeline and status. */
import { Option, type Command } from 'commander';
import { CliError } from '../cli-error';

const statuses = ['running', 'success', 'failed', 'cancelled'];

/** Registers `conveyor list`. */
export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list recent runs, newest first')
    .option('--pipeline <name>', 'only runs of this pipeline')
    .addOption(new Option('--status <status>', 'only runs in this state').choices(statuses))
    .option('--limit <n>', 'at most this many runs', '20')
    .option('--json', 'print the runs as JSON')
    .action(async (flags: { pipeline?: string; status?: string; limit: string; json?: boolean }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive whole number`, 2);
      const [{ withClient }, { listRuns }] = await Promise.all([import('../temporal.js'), import('../runs.js')]);
      await withClient(async (client) => {
        const runs = await listRuns(client, { pipeline: flags.pipeline, status: flags.status, limit });
        if (flags.json) {
          console.log(JSON.stringify(runs));
          return;
        }
        if (runs.length === 0) console.log('no runs match');
        for (const run of runs) {
          console.log(`${run.runId}  ${run.pipeline}  ${run.status}  ${run.startTime}`);
        }
      });
    });
}
