import type { PathSegment } from './path';
import type { Scope } from './scope';
import type { ResolveProblem } from './variable-resolver';

/** Receives each problem found while substituting, with the path of the field it is in. */
export type ProblemReporter = (path: PathSegment[], problem: ResolveProblem) => void;

// Fields whose value is a number or a boolean: a `${VAR}` there yields text that must become one again.
const numericFields = new Set(['retry_count', 'cpus', 'max_parallel']);
const booleanFields = new Set(['continue_on_failure', 'fail_fast']);

/**
 * Substitutes variables and `${{ }}` expressions in every string of a raw YAML value, returning a new value
 * (inputs are never modified). Keys are not substituted. With `environmentLayer`, the value's own `environment`
 * mapping goes through {@link substituteEnvironment} at that layer so that its entries resolve as definitions.
 */
export function substituteTree(
  value: unknown,
  path: PathSegment[],
  scope: Scope,
  report: ProblemReporter,
  environmentLayer?: number,
): unknown {
  if (typeof value === 'string') return substituteString(value, path, scope, report);
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      items.push(unchanged(item) ? item : substituteTree(item, [...path, index], scope, report));
    }
    return items;
  }
  if (typeof value !== 'object' || value === null) return value;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    let substituted: unknown;
    if (environmentLayer !== undefined && key === 'environment')
      substituted = substituteEnvironment(item, [...path, key], scope, environmentLayer, report);
    else substituted = unchanged(item) ? item : substituteTree(item, [...path, key], scope, report);
    // An own property even for `__proto__`, as Object.fromEntries would make it.
    if (key === '__proto__')
      Object.defineProperty(result, key, { value: substituted, writable: true, enumerable: true, configurable: true });
    else result[key] = substituted;
  }
  return result;
}

/** Values substitution returns as they are: scalars other than strings, and strings without a `$`. */
function unchanged(value: unknown): boolean {
  return typeof value === 'string' ? !value.includes('$') : typeof value !== 'object' || value === null;
}

/**
 * Substitutes the values of an environment mapping defined at `layer` of the scope: `NAME: ${NAME}:/x` reads
 * `NAME` from the layers below. Non-string scalars are kept (the schema turns them into strings).
 */
export function substituteEnvironment(
  environment: unknown,
  path: PathSegment[],
  scope: Scope,
  layer: number,
  report: ProblemReporter,
): unknown {
  if (typeof environment !== 'object' || environment === null || Array.isArray(environment)) return environment;
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => {
      if (typeof value !== 'string') return [name, value];
      const result = scope.resolver.resolve(value, { name, layer });
      for (const problem of result.problems) report([...path, name], problem);
      return [name, result.text];
    }),
  );
}

function substituteString(text: string, path: PathSegment[], scope: Scope, report: ProblemReporter): unknown {
  if (!text.includes('$')) return text;
  const result = scope.resolver.resolve(text, undefined);
  for (const problem of result.problems) report(path, problem);
  if (result.text === text) return text;
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  const numeric = numericFields.has(String(field)) || parent === 'retry_on';
  if (numeric && /^-?\d+(?:\.\d+)?$/.test(result.text.trim())) return Number(result.text);
  if (booleanFields.has(String(field)) && /^(?:true|false)$/.test(result.text.trim()))
    return result.text.trim() === 'true';
  return result.text;
}

/** Reads an environment mapping's entries as strings for a variable layer (non-scalars are left out). */
export function environmentValues(raw: unknown): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  const values: Record<string, string> = {};
  for (const name of Object.keys(raw)) {
    const value: unknown = (raw as Record<string, unknown>)[name];
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
    else if (value === null) text = '';
    else continue;
    // An own property even for `__proto__` (an assignment would set the prototype instead).
    if (name === '__proto__')
      Object.defineProperty(values, name, { value: text, enumerable: true, writable: true, configurable: true });
    else values[name] = text;
  }
  return values;
}
