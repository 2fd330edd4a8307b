/**
 * The `conveyor` command line. User mistakes end in one line on stderr and a non-zero exit, never a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error';
import { registerCancelCommand } from './commands/cancel';
import { registerDevCommand } from './commands/dev';
import { registerListCommand } from './commands/list';
import { registerLogsCommand } from './commands/logs';
import { registerPlanCommand } from './commands/plan';
import { registerRerunCommand } from './commands/rerun';
import { registerRunCommand } from './commands/run';
import { registerServeCommand } from './commands/serve';
import { registerStatusCommand } from './commands/status';
import { registerTokenCommand } from './commands/token';
import { registerValidateCommand } from './commands/validate';

const program = new Command()
  .name('conveyor')
  .description('Durable CI/CD pipelines on Temporal')
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

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
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
