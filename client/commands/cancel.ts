/** `conveyor cancel RUN`: cancel a run; its containers are killed and removed, its jobs end `cancelled`. */
import type { Command } from 'commander';
import { loadConfig } from '../../workers/config';
import { CliError } from '../cli-error';
import { describeRun } from '../runs';
import { connectClient } from '../temporal';

/** Registers `conveyor cancel`. */
export function registerCancelCommand(program: Command): void {
  program
    .command('cancel')
    .description('cancel a running run and wait until its containers are gone')
    .argument('<run>', 'run id')
    .option('--no-wait', 'return as soon as the cancellation is requested')
    .action(async (runId: string, flags: { wait: boolean }) => {
      const { client, connection } = await connectClient(loadConfig());
      try {
        const description = await describeRun(client, runId);
        if (description.status.name !== 'RUNNING') {
          throw new CliError(`run '${runId}' is not running (it is ${description.status.name.toLowerCase()})`);
        }
        const handle = client.workflow.getHandle(runId);
        await handle.cancel();
        if (!flags.wait) {
          console.log(`cancellation of ${runId} requested`);
          return;
        }
        // The run ends once every job has killed and removed its containers.
        await handle.result().catch(() => undefined);
        console.log(`run ${runId} cancelled`);
      } finally {
        await connection.close();
      }
    });
}
