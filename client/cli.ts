/**
 * The `conveyor` command line. User mistakes end in one line on stderr and a non-zero exit, never a stack trace:
 * exit 2 for bad usage (commander's own errors included), 1 when the thing asked for failed (docs/runs.md).
 *
 * Start-up stays fast because this file and the command definitions load only commander: each command imports
 * the Temporal client, dockerode, zod and the pipeline language inside its action, when it runs.
 */
import { Command, CommanderError } from 'commander';
import { conveyorVersion } from '../config/project-root';
import { CliError } from './cli-error';
import { registerArtifactsCommand } from './commands/artifacts';
import { registerCancelCommand } from './commands/cancel';
import { registerDevCommand } from './commands/dev';
import { registerIncidentCommands } from './commands/incidents';
import { registerListCommand } from './commands/list';
import { registerLogsCommand } from './commands/logs';
import { registerPlanCommand } from './commands/plan';
import { registerRerunCommand } from './commands/rerun';
import { registerRunCommand } from './commands/run';
import { registerSchedulesCommand } from './commands/schedules';
import { registerServeCommand } from './commands/serve';
import { registerStatusCommand } from './commands/status';
import { registerTokenCommand } from './commands/token';
import { registerValidateCommand } from './commands/validate';
import { endQuietlyOnClosedPipe } from './closed-pipe';

endQuietlyOnClosedPipe();

const program = new Command()
  .name('conveyor')
  .description('Durable CI/CD pipelines on Temporal')
  .version(`conveyor ${conveyorVersion()}`, '-V, --version', 'print the version and exit')
  .showHelpAfterError('(run conveyor --help for usage)')
  .exitOverride();

registerValidateCommand(program);
registerPlanCommand(program);
registerRunCommand(program);
registerStatusCommand(program);
registerLogsCommand(program);
registerCancelCommand(program);
registerListCommand(program);
registerRerunCommand(program);
registerDevCommand(program);
registerServeCommand(program);
registerTokenCommand(program);
registerSchedulesCommand(program);
registerArtifactsCommand(program);
registerIncidentCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander has printed its message (unknown option, missing argument, …); help and --version exit 0.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  if (error instanceof CliError) {
    process.stderr.write(`conveyor: ${error.message}\n`);
    process.exitCode = error.exitCode;
    return;
  }
  process.stderr.write(`conveyor: ${(error as Error).message ?? String(error)}\n`);
  if (process.env.CONVEYOR_DEBUG) console.error(error);
  process.exitCode = 1;
});
