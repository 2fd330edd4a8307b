/**
 * Reading a pipeline file at the CLI's edge: unreadable files and invalid pipelines become one-line CliErrors
 * (exit 2 and 1), each diagnostic as `FILE:LINE:COL  CODE  message`.
 */
import { readFile } from 'node:fs/promises';
import { parsePipeline } from '../pipeline';
import type { Diagnostic, PipelineModel } from '../pipeline/model';
import { CliError } from './cli-error';

/** Formats one diagnostic as `FILE:LINE:COL  CODE  message`, with its hint on the next line when it has one. */
export function formatDiagnostic(file: string, diagnostic: Diagnostic): string {
  const head = `${file}:${diagnostic.line}:${diagnostic.column}  ${diagnostic.code}  ${diagnostic.message}`;
  return diagnostic.hint ? `${head}\n    hint: ${diagnostic.hint}` : head;
}

/** Reads a file's text, or throws a CliError (exit 2) that says why it could not. */
export async function readPipelineSource(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unreadable');
    throw new CliError(`cannot read pipeline file '${file}': ${why}`, 2);
  }
}

/** Parses `--var K=V` flags into a map, rejecting malformed ones. */
export function parseVarFlags(flags: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const flag of flags) {
    const equals = flag.indexOf('=');
    if (equals <= 0) throw new CliError(`--var '${flag}' must look like NAME=value`, 2);
    vars[flag.slice(0, equals)] = flag.slice(equals + 1);
  }
  return vars;
}

/** Reads and validates a pipeline file; invalid pipelines throw a CliError listing every problem. */
export async function loadPipelineFile(
  file: string,
  options: { vars: Record<string, string>; defaultImage: string },
): Promise<PipelineModel> {
  return parsePipelineText(await readPipelineSource(file), file, options);
}

/**
 * Validates pipeline text read from `label` (a file, or `FILE@sha` for one read from a commit); invalid pipelines
 * throw a CliError listing every problem. `system` supplies known system variables (the run's source).
 */
export function parsePipelineText(
  source: string,
  label: string,
  options: { vars: Record<string, string>; defaultImage: string; system?: Record<string, string> },
): PipelineModel {
  const result = parsePipeline(source, {
    file: label,
    vars: options.vars,
    defaultImage: options.defaultImage,
    system: options.system,
  });
  if (!result.valid) {
    // One line per problem, hint included, so a single mistake is a single line.
    const lines = result.errors.map((diagnostic) => {
      const line = formatDiagnostic(label, { ...diagnostic, hint: undefined });
      return diagnostic.hint ? `${line} (${diagnostic.hint})` : line;
    });
    throw new CliError(lines.join('\n'));
  }
  return result.pipeline;
}
