/**
 * `conveyor validate FILE [--var K=V]… [--json]`: checks a pipeline file and reports every problem at once.
 * Exit 0 when valid, 1 when invalid, 2 when the file cannot be read or the flags are malformed.
 */
import type { Command } from 'commander';
import { parsePipeline, type Diagnostic, type ParseResult } from '../../pipeline';
import { diagnosticReference } from '../../pipeline/diagnostic-codes';
import { CliError } from '../cli-error';
import { formatDiagnostic, parseVarFlags, readPipelineSource } from '../pipeline-file';

/** Where a command writes; tests pass collectors. */
export interface CommandOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Options shared by `validate` and `plan`. */
export interface PipelineCommandOptions {
  var: string[];
  json?: boolean;
}

const processOutput: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Adds `conveyor validate` to the program. */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a pipeline file and report every problem with its line, column and a fix')
    .argument('<file>', 'pipeline YAML file')
    .option('--var <name=value>', 'runtime variable, highest precedence (repeatable)', collectFlag, [])
    .option('--json', 'print {"valid", "errors", "warnings"} as JSON')
    .action(async (file: string, options: PipelineCommandOptions) => {
      process.exitCode = await runValidate(file, options, processOutput);
    });
}

/** Runs `validate`; returns the exit code. */
export async function runValidate(
  file: string,
  options: PipelineCommandOptions,
  output: CommandOutput,
): Promise<number> {
  const loaded = await loadAndParse(file, options, output);
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

/**
 * Reads and parses a pipeline file for a command. Unreadable files and malformed flags are reported here
 * (exit 2); the parse result, valid or not, is returned to the caller.
 */
export async function loadAndParse(
  file: string,
  options: PipelineCommandOptions,
  output: CommandOutput,
): Promise<{ result: ParseResult } | { exitCode: number }> {
  try {
    const vars = parseVarFlags(options.var);
    const source = await readPipelineSource(file);
    return { result: parsePipeline(source, { file, vars }) };
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    if (options.json) {
      const diagnostic = {
        code: 'unreadable_file',
        message: error.message,
        line: 1,
        column: 1,
        path: '',
        hint: 'check the file name and its permissions',
      };
      output.stdout(`${JSON.stringify({ valid: false, errors: [diagnostic], warnings: [] }, null, 2)}\n`);
    } else {
      output.stderr(`conveyor: ${error.message}\n`);
    }
    return { exitCode: error.exitCode };
  }
}

/** Prints diagnostics as `FILE:LINE:COL  CODE  message`, each followed by its hint and where the code is documented. */
export function writeDiagnostics(
  file: string,
  errors: readonly Diagnostic[],
  warnings: readonly Diagnostic[],
  write: (text: string) => void,
): void {
  for (const diagnostic of errors) write(`${formatDiagnostic(file, withReference(diagnostic))}\n`);
  for (const diagnostic of warnings) {
    write(`${formatDiagnostic(file, withReference({ ...diagnostic, message: `warning: ${diagnostic.message}` }))}\n`);
  }
}

/** The exact JSON shape of a diagnostic: code, message, line, column, path, hint. */
export function jsonDiagnostic(diagnostic: Diagnostic): Record<string, string | number> {
  const { code, message, line, column, path, hint } = diagnostic;
  return { code, message, line, column, path, hint: hint ?? '' };
}

function withReference(diagnostic: Diagnostic): Diagnostic {
  return { ...diagnostic, hint: `${diagnostic.hint ?? 'see the reference'} (${diagnosticReference(diagnostic.code)})` };
}

function countSuffix(count: number, noun: string): string {
  return count === 0 ? '' : `, ${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Commander collector for repeatable flags. */
export function collectFlag(value: string, previous: string[]): string[] {
  return [...previous, value];
}
