/** `conveyor cancel RUN`: cancel a run; its containers are killed and removed, its jobs end `cancelled`. */
import type { Command } from 'commander';

/** Registers `conveyor cancel`. */
export function registerCancelCommand(program: Command): void {
  program
    .command('cancel')
    .description('cancel a running run and wait until its containers are gone')
    .argument('<run>', 'run id')
    .option('--no-wait', 'return as soon as the cancellation is requested')
    .action(async (runId: string, flags: { wait: boolean }) => {
      // Loaded here, not at the top, so `conveyor --help` never loads the Temporal client (docs/runs.md#start-up).
      const [{ withClient }, { requestCancel }] = await Promise.all([
        import('../temporal.js'),
        import('../run-control.js'),
      ]);
      await withClient(async (client) => {
        await requestCancel(client, runId);
        if (!flags.wait) {
          console.log(`cancellation of ${runId} requested`);
          return;
        }
        // The run ends once every job has killed and removed its containers.
        await client.workflow
          .getHandle(runId)
          .result()
          .catch(() => undefined);
        console.log(`run ${runId} cancelled`);
      });
    });
}
