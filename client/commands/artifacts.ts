/**
 * `conveyor artifacts ls|get|verify|pin|unpin|gc|stats` (docs/artifacts.md). Every subcommand takes `--json`.
 */
import type { Command } from 'commander';

interface JsonFlag {
  json?: boolean;
}

/** Registers `conveyor artifacts` and its subcommands. */
export function registerArtifactsCommand(program: Command): void {
  const artifacts = program
    .command('artifacts')
    .description('list, fetch, verify, pin and clean up stored artifacts (docs/artifacts.md)');
  // Loaded when a subcommand runs, not at start-up (docs/runs.md#start-up).
  const commands = () => import('../artifact-commands.js');

  artifacts
    .command('ls')
    .description("list artifacts: a run's, a pipeline's, or all")
    .argument('[run]', 'run id')
    .option('--pipeline <pipeline>', "only this pipeline's artifacts")
    .option('--json', 'print a JSON array')
    .action(async (run: string | undefined, flags: JsonFlag & { pipeline?: string }) =>
      (await commands()).listArtifacts(run, flags),
    );

  artifacts
    .command('get')
    .description('fetch an artifact, verify it, and extract it (into ./NAME unless -o)')
    .argument('[run]', 'run id (or use --pipeline P NAME --latest)')
    .argument('[name]', 'artifact name, or JOB/NAME when several jobs of the run use the name')
    .option('--pipeline <pipeline>', 'the pipeline whose artifact to fetch (with --latest)')
    .option('--latest', "the pipeline's newest artifact of that name")
    .option('-o, --output <dir>', 'extract into this new or empty directory')
    .option('--json', 'print what was extracted as JSON')
    .action(
      async (
        run: string | undefined,
        name: string | undefined,
        flags: JsonFlag & { pipeline?: string; latest?: boolean; output?: string },
      ) => (await commands()).getArtifact(run, name, flags),
    );

  artifacts
    .command('verify')
    .description("re-hash a run's artifacts, or (--all) every stored object; exit 1 on any problem")
    .argument('[run]', 'run id')
    .option('--all', 'scrub the whole store: corrupted objects, metadata without objects, objects without metadata')
    .option('--json', 'print the findings as JSON')
    .action(async (run: string | undefined, flags: JsonFlag & { all?: boolean }) =>
      (await commands()).verifyArtifacts(run, flags),
    );

  for (const [verb, description] of [
    ['pin', 'protect an artifact from retention until unpinned'],
    ['unpin', 'remove a pin'],
  ] as const) {
    artifacts
      .command(verb)
      .description(description)
      .argument('<digest-or-run>', 'sha256:… digest, or a run id followed by an artifact name')
      .argument('[name]', 'artifact name (with a run id)')
      .option('--json', 'print the result as JSON')
      .action(async (target: string, name: string | undefined, flags: JsonFlag) =>
        (await commands()).pinArtifact(verb, target, name, flags),
      );
  }

  artifacts
    .command('gc')
    .description('run a retention cycle now, or (--dry-run) print what one would delete and why')
    .option('--dry-run', 'delete nothing: print the decisions')
    .option('--json', 'print the result as JSON')
    .action(async (flags: JsonFlag & { dryRun?: boolean }) => (await commands()).collectGarbage(flags));

  artifacts
    .command('stats')
    .description('bytes and objects stored, quota used and storage pressure level')
    .option('--json', 'print the figures as JSON')
    .action(async (flags: JsonFlag) => (await commands()).storeStats(flags));
}
