/**
 * `conveyor run [FILE]`: validate a pipeline, start its run, stream its output and report the outcome. Inside a
 * git work tree the run builds the checked-out commit (docs/triggers.md); `--repo` runs another repository.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { collectFlag } from '../flags';

interface RunFlags {
  var: string[];
  ref?: string;
  repo?: string;
  allowDirty?: boolean;
  detach?: boolean;
  json?: boolean;
}

/** Registers `conveyor run`. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a pipeline and stream its output; exits 0 on success, 1 on failure')
    .argument('[file]', 'pipeline YAML file (default: .conveyor.yml at the root of the git work tree)')
    .option('--var <NAME=value>', 'set a variable or a manual input (repeatable)', collectFlag, [])
    .option('--ref <ref>', 'build this branch, tag or commit instead of the checked-out one')
    .option('--repo <url|path>', 'build another repository (file path, file://, git://, http(s)://)')
    .option('--allow-dirty', 'build a snapshot of uncommitted work instead of refusing it')
    .option('--detach', 'start the run and print its id without waiting')
    .option('--json', 'print a JSON summary as the last line of output')
    .action(async (file: string | undefined, flags: RunFlags) => {
      // Loaded here, not at the top, so `conveyor --help` loads none of this (docs/runs.md#start-up). The order is
      // for `run`'s start-up (docs/benchmarks.md): the work tree is looked up (a `git` subprocess) while the modules
      // load, and the Temporal connection opens while the pipeline language loads and the pipeline is read.
      const { findWorkTree } = await import('../../activities/source/work-tree.js');
      const workTree = flags.repo ? undefined : findWorkTree(file ? path.dirname(path.resolve(file)) : process.cwd());
      const { loadConfig } = await import('../../workers/config.js');
      const { abandonConnection, connectForRun, startAndFollow } = await import('../run-follow.js');
      const config = loadConfig();
      const connection = connectForRun(config);
      const [
        { parsePipelineText, parseVarFlags },
        { resolveRunSource },
        sources,
        { manualInputProblems },
        { CliError },
      ] = await Promise.all([
        import('../pipeline-file.js'),
        import('../run-source.js'),
        import('../../pipeline/source.js'),
        import('../../pipeline/manual-inputs.js'),
        import('../cli-error.js'),
      ]);
      let handedOver = false;
      try {
        const vars = parseVarFlags(flags.var);
        const resolved = await resolveRunSource(config, {
          file,
          ref: flags.ref,
          repo: flags.repo,
          allowDirty: flags.allowDirty,
          cwd: process.cwd(),
          workTree,
        });
        const pipeline = parsePipelineText(resolved.text, resolved.label, {
          vars,
          defaultImage: config.defaultImage,
          system: resolved.source ? sources.sourceVariables(resolved.source) : undefined,
        });
        const problems = manualInputProblems(pipeline, vars);
        if (problems.length > 0) throw new CliError(problems.join('\n'), 2);
        const human = flags.json ? process.stderr : process.stdout;
        for (const notice of resolved.notices) human.write(`conveyor: ${notice}\n`);
        const input = { pipeline, vars, trigger: 'cli', ...(resolved.source ? { source: resolved.source } : {}) };
        handedOver = true;
        const status = await startAndFollow(config, input, flags, connection);
        if (status && status.status !== 'success') process.exitCode = 1;
      } finally {
        // Not awaited: the command's error is reported at once, and the connection closes when it is open.
        if (!handedOver) void abandonConnection(connection);
      }
    });
}
