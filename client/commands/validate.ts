/**
 * `conveyor validate FILE [--var K=V]… [--json]`: checks a pipeline file and reports every problem at once.
 * Exit 0 when valid, 1 when invalid, 2 when the file cannot be read or the flags are malformed.
 */
import type { Command } from 'commander';
import { collectFlag } from '../flags';
import type { CommandOutput, PipelineCommandOptions } from '../pipeline-report';

/** Adds `conveyor validate` to the program. */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a pipeline file and report every problem with its line, column and a fix')
    .argument('<file>', 'pipeline YAML file')
    .option('--var <name=value>', 'runtime variable, highest precedence (repeatable)', collectFlag, [])
    .option('--json', 'print {"valid", "errors", "warnings"} as JSON')
    .action(async (file: string, options: PipelineCommandOptions) => {
      process.exitCode = await runValidate(file, options);
    });
}

/** Runs `validate` (writing to `output`, by default the process's stdout and stderr); returns the exit code. */
export async function runValidate(
  file: string,
  options: PipelineCommandOptions,
  output?: CommandOutput,
): Promise<number> {
  // Loaded here, not at the top, so `conveyor --help` never loads the pipeline language (docs/runs.md#start-up).
  const report = await import('../pipeline-report.js');
  const { jsonDiagnostic, writeDiagnostics } = report;
  output ??= report.processOutput;
  const loaded = await report.loadAndParse(file, options, output);
  if ('exitCode' in loaded) return loaded.exitCode;
  const { result } = loaded;
  const errors = result.valid ? [] : result.errors;
  if (options.json) {
    output.stdout(
      `${JSON.stringify({ valid: result.valid, errors: errors.map(jsonDiagnostic), warnings: result.warnings.map(jsonDiagnostic) }, null, 2)}\n`,
    );
    return result.valid ? 0 : 1;
  }
  writeDiagnostics(file, errors, result.warnings, output.stdout);
  if (result.valid) {
    const jobs = result.pipeline.jobs.length;
    output.stdout(
      `${file}: valid (${jobs} job${jobs === 1 ? '' : 's'}${countSuffix(result.warnings.length, 'warning')})\n`,
    );
    return 0;
  }
  output.stdout(
    `${file}: invalid (${errors.length} error${errors.length === 1 ? '' : 's'}${countSuffix(result.warnings.length, 'warning')})\n`,
  );
  return 1;
}

function countSuffix(count: number, noun: string): string {
  return count === 0 ? '' : `, ${count} ${noun}${count === 1 ? '' : 's'}`;
}
