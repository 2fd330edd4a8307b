import { parseDuration } from './duration';
import { variableNamePattern } from './names';
import { limits, type JobInput } from './schema';

/*
 * The schema check of a job (`jobSchema` in schema.ts) is the largest single cost of parsing a large pipeline after
 * reading the YAML (docs/benchmarks.md, "Parsing a 1,000-job pipeline"). Most jobs use a handful of fields with plain
 * values, and for those this module builds the value `jobSchema` would give directly. It answers `undefined` — and
 * the caller runs `jobSchema`, which words every error — whenever the job uses any other field or any value it is
 * not sure of, so it never accepts what the schema rejects and never changes a message. Its output equals the
 * schema's for every job it takes (`test/unit/pipeline/job-fast-check.test.ts` compares the two on generated jobs).
 */

/** Declines a value: the schema decides instead. */
const declined = Symbol('declined');
/** Turns one field's value into the schema's output for it, or declines it. */
type Field = (value: unknown) => unknown;

const text: Field = (value) => (typeof value === 'string' ? value : declined);
const integerBetween =
  (min: number, max: number): Field =>
  (value) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max ? value : declined;
const durationBetween =
  (range: { min: number; max: number }): Field =>
  (value) => {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) return declined;
    const seconds = parseDuration(value);
    return seconds !== undefined && seconds >= range.min && seconds <= range.max ? seconds : declined;
  };
const dependencyList: Field = (value) => {
  if (typeof value === 'string') return value;
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? [...(value as string[])] : declined;
};

/** The fields taken, in the schema's order (its parser writes its output in that order). */
const stepFields: Record<string, Field> = {
  name: (value) => (typeof value === 'string' && value.length >= 1 && value.length <= 100 ? value : declined),
  script: (value) => simpleScript(value) ?? declined,
  image: text,
  environment: (value) => simpleEnvironment(value) ?? declined,
  working_directory: text,
  timeout: durationBetween(limits.stepTimeout),
  retry_count: integerBetween(limits.stepRetryCount.min, limits.stepRetryCount.max),
  retry_on: (value) => {
    const code = integerBetween(1, 255);
    return Array.isArray(value) && value.every((item) => code(item) !== declined) ? [...(value as number[])] : declined;
  },
  continue_on_failure: (value) => (typeof value === 'boolean' ? value : declined),
};
const jobFields: Record<string, Field> = {
  steps: (value) => {
    if (!Array.isArray(value) || value.length === 0) return declined;
    const steps: unknown[] = [];
    for (const step of value) {
      const converted = convert(step, stepFields, ['name', 'script']);
      if (converted === undefined) return declined;
      steps.push(converted);
    }
    return steps;
  },
  depends_on: dependencyList,
  needs: dependencyList,
  image: text,
  environment: stepFields.environment as Field,
  timeout: durationBetween(limits.jobTimeout),
  retry_count: integerBetween(limits.jobRetryCount.min, limits.jobRetryCount.max),
  if: (value) => (typeof value === 'string' || typeof value === 'boolean' ? value : declined),
};

/** `jobSchema`'s output for a job of common fields with plain values, or `undefined` to let the schema decide. */
export function simpleJobInput(job: Record<string, unknown>): JobInput | undefined {
  return convert(job, jobFields, ['steps']) as JobInput | undefined;
}

/** A mapping of known fields only, each converted, with the required ones present; else `undefined`. */
function convert(
  value: unknown,
  fields: Record<string, Field>,
  required: readonly string[],
): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const input = value as Record<string, unknown>;
  for (const key in input)
    if (!Object.prototype.hasOwnProperty.call(fields, key) || !Object.prototype.hasOwnProperty.call(input, key))
      return undefined;
  for (const key of required) if (input[key] === undefined) return undefined;
  const result: Record<string, unknown> = {};
  for (const key in fields) {
    if (input[key] === undefined) continue;
    const converted = (fields[key] as Field)(input[key]);
    if (converted === declined) return undefined;
    result[key] = converted;
  }
  return result;
}

function simpleScript(script: unknown): string[] | undefined {
  let lines: string[];
  if (typeof script === 'string') lines = [script];
  else if (Array.isArray(script) && script.length > 0) {
    lines = [];
    for (const line of script) {
      if (typeof line === 'string') lines.push(line);
      else if (typeof line === 'boolean' || (typeof line === 'number' && Number.isFinite(line)))
        lines.push(String(line));
      else return undefined;
    }
  } else return undefined;
  // An empty script is an error the schema words.
  return lines.some((line) => line.trim() !== '') ? lines : undefined;
}

function simpleEnvironment(environment: unknown): Record<string, string> | undefined {
  if (typeof environment !== 'object' || environment === null || Array.isArray(environment)) return undefined;
  if (Object.getPrototypeOf(environment) !== Object.prototype) return undefined;
  const result: Record<string, string> = {};
  for (const name of Object.keys(environment)) {
    if (name === '__proto__' || !variableNamePattern.test(name)) return undefined;
    const value: unknown = (environment as Record<string, unknown>)[name];
    if (typeof value === 'string') result[name] = value;
    else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))
      result[name] = String(value);
    else if (value === null) result[name] = '';
    else return undefined;
  }
  return result;
}
