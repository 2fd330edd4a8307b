/**
 * The stable codes a pipeline diagnostic can carry. Each is documented, with a failing example and its fix, in
 * docs/pipeline-syntax.md under a heading of the same name.
 */
export const diagnosticCodes = [
  'yaml_syntax',
  'duplicate_key',
  'multiple_documents',
  'schema',
  'unknown_key',
  'out_of_range',
  'invalid_name',
  'duplicate_name',
  'unknown_dependency',
  'unknown_artifact',
  'dependency_cycle',
  'undefined_variable',
  'variable_syntax',
  'variable_cycle',
  'expression_syntax',
  'unknown_function',
  'expression_context',
  'unsafe_path',
  'invalid_image',
  'invalid_duration',
  'matrix',
  'invalid_cron',
  'invalid_glob',
  'redundant_dependency',
  'unreadable_file',
  'internal_error',
] as const;

/** A stable diagnostic code (see {@link diagnosticCodes}). */
export type DiagnosticCode = (typeof diagnosticCodes)[number];

/** Where a code is explained, for human output. */
export function diagnosticReference(code: string): string {
  return `docs/pipeline-syntax.md#${code.replace(/_/g, '-')}`;
}
