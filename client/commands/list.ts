/** `conveyor list`: recent runs from Temporal visibility, filterable by pipeline and status. */
import type { Command } from 'commander';
import { loadConfig } from '../../workers/config';
import { CliError } from '../cli-error';
import { listRuns } from '../runs';
import { connectClient } from '../temporal';

const statuses = ['running', 'success', 'failed', 'cancelled'];

/** Registers `conveyor list`. */
export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list recent runs, newest first')
    .option('--pipeline <name>', 'only runs of this pipeline')
    .option('--status <status>', `only runs in this state (${statuses.join(', ')})`)
    .option('--limit <n>', 'at most this many runs', '20')
    .option('--json', 'print the runs as JSON')
    .action(async (flags: { pipeline?: string; status?: string; limit: string; json?: boolean }) => {
      if (flags.status && !statuses.includes(flags.status)) {
        throw new CliError(`--status must be one of ${statuses.join(', ')} (got '${flags.status}')`, 2);
      }
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive whole number`, 2);
      const { client, connection } = await connectClient(loadConfig());
      try {
        const runs = await listRuns(client, { pipeline: flags.pipeline, status: flags.status, limit });
        if (flags.json) {
          console.log(JSON.stringify(runs));
          return;
        }
        if (runs.length === 0) console.log('no runs match');
        for (const run of runs) {
          console.log(`${run.runId}  ${run.pipeline}  ${run.status}  ${run.startTime}`);
        }
      } finally {
        await connection.close();
      }
    });
}
