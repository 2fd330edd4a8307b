import { listNames } from './did-you-mean';
import { VariableResolver } from './variable-resolver';
import { hasReferences } from './variable-template';

/** Values only a run knows. */
export interface RunTimeValues {
  /** Run-time system variables: `CONVEYOR_RUN_ID`, `CONVEYOR_RUN_NUMBER`, `CONVEYOR_ATTEMPT`, … */
  system: Readonly<Record<string, string>>;
  /**
   * Secrets, for container environments only: pass them only where the text goes into a container, never where
   * it is logged, recorded in history or shown in a plan.
   */
  secrets?: Readonly<Record<string, string>>;
}

/** The outcome of {@link resolveRunTimeVariables}. */
export interface RunTimeResolution {
  /** The final text: references replaced, `$${` escapes turned into a literal `${`. */
  text: string;
  /** References that had no value (left as written in `text`), e.g. `${secrets.TOKEN}` without secrets. */
  missing: string[];
}

/**
 * Finishes a template from the model (a script line, an image, an environment value) when a step starts:
 * replaces the run-time references the parser left symbolic (`${CONVEYOR_RUN_ID}`, `${secrets.NAME}`) and
 * unescapes `$${` into `${`. Without `secrets`, `${secrets.NAME}` stays as written and is listed in `missing`,
 * so text meant for logs can be finished without ever holding a secret.
 */
export function resolveRunTimeVariables(template: string, values: RunTimeValues): RunTimeResolution {
  if (!template.includes('$')) return { text: template, missing: [] };
  const resolver = new VariableResolver({
    layers: [{ source: 'system', values: values.system, literal: true }],
    secrets: values.secrets ?? 'keep',
    final: true,
  });
  const result = resolver.resolve(template);
  const missing = result.problems.map((problem) => problem.raw);
  if (!values.secrets) missing.push(...(template.match(/(?<!\$)\$\{secrets\.[A-Za-z_][A-Za-z0-9_-]*\}/g) ?? []));
  return { text: result.text, missing: [...new Set(missing)] };
}

/** Names of the secrets a template refers to (`${secrets.NAME}`), so a run can fetch only those. */
export function secretReferences(template: string): string[] {
  if (!hasReferences(template)) return [];
  const names = [...template.matchAll(/(?<!\$)\$\{secrets\.([A-Za-z_][A-Za-z0-9_-]*)/g)].map((match) => match[1] ?? '');
  return [...new Set(names)];
}

/** Describes missing run-time references for an error message. */
export function describeMissing(missing: readonly string[]): string {
  return `no value for ${listNames([...missing])}`;
}
