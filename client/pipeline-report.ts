/**
 * What `conveyor validate` and `conveyor plan` share: reading and parsing a pipeline file for a command, and
 * printing its diagnostics as `FILE:LINE:COL  CODE  message` with their hints, or as JSON.
 */
import { parsePipeline, type Diagnostic, type ParseResult } from '../pipeline';
import { diagnosticReference } from '../pipeline/diagnostic-codes';
import { CliError } from './cli-error';
import { formatDiagnostic, parseVarFlags, readPipelineSource } from './pipeline-file';

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

/** The process's own stdout and stderr. */
export const processOutput: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

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
