/** `conveyor run FILE`: validate a pipeline, start its run, stream its output and report the outcome. */
import type { Command } from 'commander';
import { collectFlag } from '../flags';

interface RunFlags {
  var: string[];
  detach?: boolean;
  json?: boolean;
}

/** Registers `conveyor run`. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a pipeline and stream its output; exits 0 on success, 1 on failure')
    .argument('<file>', 'pipeline YAML file')
    .option('--var <NAME=value>', 'set a variable (repeatable)', collectFlag, [])
    .option('--detach', 'start the run and print its id without waiting')
    .option('--json', 'print a JSON summary as the last line of output')
    .action(async (file: string, flags: RunFlags) => {
      // Loaded here, not at the top, so `conveyor --help` loads none of this (docs/runs.md#start-up).
      const [{ loadConfig }, { loadPipelineFile, parseVarFlags }, { startAndFollow }] = await Promise.all([
        import('../../workers/config.js'),
        import('../pipeline-file.js'),
        import('../run-follow.js'),
      ]);
      const config = loadConfig();
      const vars = parseVarFlags(flags.var);
      const pipeline = await loadPipelineFile(file, { vars, defaultImage: config.defaultImage });
      const status = await startAndFollow(config, { pipeline, vars, trigger: 'cli' }, flags);
      if (status && status.status !== 'success') process.exitCode = 1;
    });
}
