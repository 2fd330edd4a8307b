/**
 * Inputs of manual runs (`triggers.manual.inputs`, docs/triggers.md): each input is a variable of the run. Its
 * default applies whenever no value is given; `required` and `options` are checked when a person starts the run.
 */
import { listNames } from './did-you-mean';
import type { PipelineModel } from './model';
import { variableNamePattern } from './names';

/** The defaults of the inputs a (not yet validated) document declares, as variables. */
export function manualInputDefaults(document: unknown): Record<string, string> {
  const inputs = (document as { triggers?: { manual?: { inputs?: unknown } } } | null)?.triggers?.manual?.inputs;
  const defaults: Record<string, string> = {};
  if (typeof inputs !== 'object' || inputs === null) return defaults;
  for (const [name, input] of Object.entries(inputs)) {
    const value = (input as { default?: unknown } | null)?.default;
    const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    if (variableNamePattern.test(name) && scalar) defaults[name] = String(value);
  }
  return defaults;
}

/**
 * Checks the values given for a manual run (`--var NAME=value`) against the declared inputs: every required input
 * has a value, and values with `options` are one of them. Returns one message per problem.
 */
export function manualInputProblems(pipeline: PipelineModel, given: Readonly<Record<string, string>>): string[] {
  const inputs = pipeline.triggers?.manual?.inputs ?? {};
  const problems: string[] = [];
  for (const [name, input] of Object.entries(inputs)) {
    const value = Object.prototype.hasOwnProperty.call(given, name) ? given[name] : undefined;
    const effective = value ?? (input.default === undefined ? undefined : String(input.default));
    if (input.required && (effective === undefined || effective === '')) {
      problems.push(`input '${name}' is required: give it with --var ${name}=VALUE`);
      continue;
    }
    const options = input.options?.map(String);
    if (options && effective !== undefined && !options.includes(effective)) {
      problems.push(`input '${name}' is '${effective}', which is not one of: ${listNames(options)}`);
    }
  }
  return problems;
}
