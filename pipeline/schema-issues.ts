import type { z } from 'zod';
import { closestMatch, listNames } from './did-you-mean';
import type { DiagnosticCode } from './diagnostic-codes';
import type { DiagnosticCollector } from './diagnostics';
import type { PathSegment } from './path';

type Issue = z.core.$ZodIssue;

/** Keys from other CI systems that mean a Conveyor field: reported as that field misspelt. */
const foreignKeyTargets: Record<string, string> = {
  run: 'script',
  env: 'environment',
  variables: 'environment',
  'timeout-minutes': 'timeout',
  timeout_minutes: 'timeout',
  when: 'if',
  workdir: 'working_directory',
  dependencies: 'depends_on',
};

/** Keys people reach for from other CI systems, and what to write in Conveyor instead. */
const foreignKeyHints: Record<string, string> = {
  action: 'Conveyor steps run scripts only: write the commands under script:',
  uses: 'Conveyor steps run scripts only: write the commands under script:',
  run: 'Conveyor calls it script: (a list of commands, or one string)',
  env: 'Conveyor calls it environment:',
  variables: 'Conveyor calls it environment: (or global_env: at the top level)',
  services: 'service containers are not supported yet: start the service from a step instead',
  stages: 'Conveyor has no stages: order jobs with depends_on',
  strategy: 'put max_parallel and fail_fast inside matrix:',
  'timeout-minutes': 'Conveyor calls it timeout: (seconds, or "15m")',
  timeout_minutes: 'Conveyor calls it timeout: (seconds, or "15m")',
  'runs-on': 'Conveyor runs every step in a container: set image: instead',
  when: 'Conveyor calls it if: (an expression)',
  workdir: 'Conveyor calls it working_directory:',
};

const fieldHints: Record<string, string> = {
  steps:
    'add at least one step, e.g. steps: [{name: build, script: ["make"]}], or a deploy: block (docs/deployments.md)',
  script: `add the commands to run, e.g. script: ["echo 'hello'"]`,
  jobs: 'add at least one job, e.g. jobs: {build: {steps: [{name: compile, script: ["make"]}]}}',
  name: 'give a non-empty name',
  depends_on: 'list the names of jobs defined under jobs:, e.g. depends_on: [build]',
  needs: 'list the names of jobs defined under jobs:, e.g. needs: [build]',
  retry_count: 'use a whole number in the allowed range, or remove the field to get no retries',
  environment: 'write a mapping of NAME: value pairs',
  global_env: 'write a mapping of NAME: value pairs',
  continue_on_failure: 'write true or false (YAML 1.2: yes/no/on/off are strings)',
  fail_fast: 'write true or false (YAML 1.2: yes/no/on/off are strings)',
  network: "write 'isolated' (the default), 'egress' (outbound access) or 'none'",
};

/** Options for {@link reportSchemaIssues}. */
export interface SchemaIssueOptions {
  /** Where the parsed value sits in the document. */
  prefix: readonly PathSegment[];
  /** The value that was parsed (to quote offending values). */
  input: unknown;
  /** The schema that was used (to list the keys allowed where an unknown key was found). */
  schema: z.ZodType;
  /** Code for issues that are not more specific (default `schema`). */
  defaultCode?: DiagnosticCode;
}

/** Turns zod issues into diagnostics that name the path, the expected and the actual value, and a fix. */
export function reportSchemaIssues(
  issues: readonly Issue[],
  options: SchemaIssueOptions,
  collector: DiagnosticCollector,
): void {
  // A missing field next to an unknown key that is its misspelling is one problem, reported as the unknown key.
  const misspelt = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const relative = issue.path.map(String);
    const known = shapeKeysAt(options.schema, issue.path.map(toSegment));
    for (const key of issue.keys) {
      const match = closestMatch(key, known) ?? foreignKeyTargets[key];
      if (match && known.includes(match)) misspelt.add(JSON.stringify([...relative, match]));
    }
  }
  for (const issue of issues) {
    const missing =
      (issue.code === 'invalid_type' || issue.code === 'invalid_union') &&
      valueAt(options.input, issue.path.map(toSegment)) === undefined;
    if (missing && misspelt.has(JSON.stringify(issue.path.map(String)))) continue;
    reportIssue(issue, [], options, collector);
  }
}

function toSegment(segment: PropertyKey): PathSegment {
  return typeof segment === 'symbol' ? String(segment) : segment;
}

function reportIssue(issue: Issue, base: PathSegment[], options: SchemaIssueOptions, collector: DiagnosticCollector) {
  const relative = [...base, ...issue.path.map(toSegment)];
  const path = [...options.prefix, ...relative];
  const value = valueAt(options.input, relative);
  const field = [...path].reverse().find((segment): segment is string => typeof segment === 'string') ?? '';
  const defaultCode = options.defaultCode ?? 'schema';
  const hint = fieldHints[field] ?? 'see docs/pipeline-syntax.md for the fields allowed here and their types';

  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = shapeKeysAt(options.schema, relative);
      for (const key of issue.keys) {
        const match = closestMatch(key, known);
        collector.error({
          code: 'unknown_key',
          problem: `unknown key '${key}'${match ? ` (did you mean '${match}'?)` : ''}`,
          path: [...path, key],
          atKey: true,
          hint:
            foreignKeyHints[key] ??
            (match ? `rename it to '${match}'` : `remove it; the keys allowed here are: ${listNames(known, 20)}`),
        });
      }
      return;
    }
    case 'invalid_union': {
      if (value === undefined) {
        collector.error({ code: defaultCode, problem: `missing required field '${field}'`, path, hint });
        return;
      }
      const matching = issue.errors.filter((branch) => !branch.some((inner) => isTypeMismatchAtRoot(inner)));
      if (matching.length === 1 && matching[0]) {
        for (const inner of matching[0]) reportIssue(inner, relative, options, collector);
        return;
      }
      collector.error({ code: defaultCode, problem: `${issue.message}, got ${describeValue(value)}`, path, hint });
      return;
    }
    case 'invalid_type': {
      if (value === undefined) {
        collector.error({ code: defaultCode, problem: `missing required field '${field}'`, path, hint });
      } else {
        collector.error({
          code: defaultCode,
          problem: `expected ${describeExpected(issue.expected)}, got ${describeValue(value)}`,
          path,
          hint,
        });
      }
      return;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small ? (issue as { minimum: unknown }).minimum : (issue as { maximum: unknown }).maximum;
      if (issue.origin === 'number' || issue.origin === 'int') {
        collector.error({
          code: defaultCode === 'schema' ? 'out_of_range' : defaultCode,
          problem: `${describeValue(value)} is out of range: must be ${small ? 'at least' : 'at most'} ${String(bound)}`,
          path,
          hint: fieldHints[field] ?? `use a value ${small ? '≥' : '≤'} ${String(bound)}`,
        });
      } else if (small) {
        collector.error({ code: defaultCode, problem: `must not be empty`, path, hint });
      } else {
        collector.error({ code: defaultCode, problem: `is longer than ${String(bound)} characters`, path, hint });
      }
      return;
    }
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      const match = typeof value === 'string' ? closestMatch(value, allowed) : undefined;
      collector.error({
        code: defaultCode,
        problem: `${describeValue(value)} is not allowed${match ? ` (did you mean '${match}'?)` : ''}`,
        path,
        hint: `use one of: ${allowed.join(', ')}`,
      });
      return;
    }
    case 'custom': {
      const params = (issue.params ?? {}) as { code?: DiagnosticCode; hint?: string; atKey?: boolean };
      collector.error({
        code: params.code ?? defaultCode,
        problem: issue.message,
        path,
        hint: params.hint ?? hint,
        atKey: params.atKey,
      });
      return;
    }
    default:
      collector.error({ code: defaultCode, problem: `${issue.message}, got ${describeValue(value)}`, path, hint });
  }
}

function isTypeMismatchAtRoot(issue: Issue): boolean {
  return issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_union');
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'record':
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'a string';
    default:
      return expected;
  }
}

/** Describes a value for a message: `the string 'abc'`, `42`, `a list`, `a mapping`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `the string '${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function valueAt(input: unknown, path: readonly PathSegment[]): unknown {
  let current = input;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<PathSegment, unknown>)[segment];
  }
  return current;
}

interface SchemaDefinition {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}

function definitionOf(schema: z.ZodType): SchemaDefinition {
  return (schema as unknown as { _zod: { def: SchemaDefinition } })._zod.def;
}

/** The keys an object schema allows at `path` (following records, arrays, unions and wrappers). */
function shapeKeysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  const unwrap = (current: z.ZodType, depth = 0): z.ZodType[] => {
    const definition = definitionOf(current);
    if (depth > 16) return [current];
    if (definition.innerType) return unwrap(definition.innerType, depth + 1);
    if (definition.type === 'pipe' && definition.in) return unwrap(definition.in, depth + 1);
    if (definition.type === 'union' && definition.options) {
      return definition.options.flatMap((option) => unwrap(option, depth + 1));
    }
    return [current];
  };
  let candidates = unwrap(schema);
  for (const segment of path) {
    const next: z.ZodType[] = [];
    for (const candidate of candidates) {
      const definition = definitionOf(candidate);
      if (definition.type === 'object' && typeof segment === 'string' && definition.shape?.[segment]) {
        next.push(...unwrap(definition.shape[segment]));
      } else if (definition.type === 'record' && definition.valueType) {
        next.push(...unwrap(definition.valueType));
      } else if (definition.type === 'array' && definition.element && typeof segment === 'number') {
        next.push(...unwrap(definition.element));
      }
    }
    candidates = next;
  }
  const object = candidates.find((candidate) => definitionOf(candidate).type === 'object');
  return object ? Object.keys(definitionOf(object).shape ?? {}) : [];
}
