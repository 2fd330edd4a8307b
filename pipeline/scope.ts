import { toText } from './expression-coercion';
import type { ExpressionValue } from './expression-ast';
import { checkExpression } from './expression';
import { parseTimeContextNames } from './expression-context';
import { evaluateExpression, unwrapExpression } from './expression';
import type { MatrixCombination } from './matrix';
import { VariableResolver, type ExpressionOutcome, type VariableLayer } from './variable-resolver';

/** System variables known while parsing (others, like CONVEYOR_RUN_ID, only when the run starts). */
export const runTimeSystemVariables = [
  'CONVEYOR_RUN_ID',
  'CONVEYOR_RUN_NUMBER',
  'CONVEYOR_ATTEMPT',
  'CONVEYOR_JOB_ATTEMPT',
  'CONVEYOR_TRIGGER',
  'CONVEYOR_BRANCH',
  'CONVEYOR_COMMIT',
  // The source's variables (pipeline/source.ts): known at parse time when the caller passes the source.
  'CONVEYOR_SHORT_COMMIT',
  'CONVEYOR_REF',
  'CONVEYOR_TAG',
  'CONVEYOR_EVENT',
  'CONVEYOR_PR_NUMBER',
  'CONVEYOR_BASE_BRANCH',
  'CONVEYOR_REPOSITORY',
  'CONVEYOR_COMMIT_MESSAGE',
  'CONVEYOR_COMMIT_AUTHOR',
] as const;

const runTimeSystemVariableSet: ReadonlySet<string> = new Set(runTimeSystemVariables);

/** Everything a scope is built from. */
export interface ScopeInput {
  runtime: Readonly<Record<string, string>>;
  system: Readonly<Record<string, string>>;
  global: Readonly<Record<string, string>>;
  job?: Readonly<Record<string, string>>;
  step?: Readonly<Record<string, string>>;
  matrix?: MatrixCombination;
}

/** A resolver for one scope, with its layers in precedence order and `${{ }}` evaluation wired in. */
export interface Scope {
  resolver: VariableResolver;
  /** Index of each environment layer, for resolving definitions (`PATH: ${PATH}:/x` reads the next layer). */
  layerIndex: { step?: number; job?: number; global: number };
}

/**
 * Builds the resolver for a scope: runtime `--var` > step environment > job environment > global_env > system.
 * `${{ }}` in a field is evaluated now against `env`, `vars` and `matrix`; `${{ secrets.X }}` stays symbolic.
 */
export function createScope(input: ScopeInput): Scope {
  const layers: VariableLayer[] = [{ source: 'runtime', values: input.runtime, literal: true }];
  const layerIndex: Scope['layerIndex'] = { global: 0 };
  if (input.step) layerIndex.step = layers.push({ source: 'step', values: input.step, literal: false }) - 1;
  if (input.job) layerIndex.job = layers.push({ source: 'job', values: input.job, literal: false }) - 1;
  layerIndex.global = layers.push({ source: 'global', values: input.global, literal: false }) - 1;
  layers.push({ source: 'system', values: input.system, literal: true });
  // Names known only when the run starts, unless the caller supplied them: tested on a miss, never enumerated,
  // so no set is built per scope (a large pipeline makes thousands of scopes).
  const system = input.system;
  const deferred = { has: (name: string): boolean => runTimeSystemVariableSet.has(name) && !(name in system) };

  let environment: Record<string, string> | undefined;
  const resolver: VariableResolver = new VariableResolver({
    layers,
    deferred,
    matrix: input.matrix,
    evaluate: (source) => {
      environment ??= resolvedEnvironment(resolver, input);
      return evaluateFieldExpression(source, { env: environment, vars: { ...input.runtime }, matrix: input.matrix });
    },
  });
  return { resolver, layerIndex };
}

function resolvedEnvironment(resolver: VariableResolver, input: ScopeInput): Record<string, string> {
  const names = new Set([
    ...Object.keys(input.global),
    ...Object.keys(input.job ?? {}),
    ...Object.keys(input.step ?? {}),
  ]);
  const environment: Record<string, string> = {};
  for (const name of names) environment[name] = resolver.resolve(`\${${name}}`).text;
  return environment;
}

function evaluateFieldExpression(
  source: string,
  context: { env: Record<string, string>; vars: Record<string, string>; matrix?: MatrixCombination },
): ExpressionOutcome {
  const secret = /^\s*secrets\.([A-Za-z_][A-Za-z0-9_-]*)\s*$/.exec(source);
  if (secret) return { ok: true, text: `\${secrets.${secret[1]}}`, template: true };
  const problems = checkExpression(source, {
    contexts: parseTimeContextNames,
    statusFunctions: false,
    matrixAxes: context.matrix ? Object.keys(context.matrix) : [],
  });
  const first = problems[0];
  if (first) return { ok: false, code: first.code, message: first.message, hint: first.hint };
  if (/\bsecrets\b/.test(unwrapExpression(source).source)) {
    return {
      ok: false,
      code: 'expression_context',
      message: 'secrets can only be used on their own: ${{ secrets.NAME }}',
      hint: 'compute with other values around the secret, outside the ${{ }}',
    };
  }
  const result = evaluateExpression(source, context);
  if (!result.ok) {
    return { ok: false, code: 'expression_syntax', message: result.message, hint: 'fix the expression' };
  }
  return { ok: true, text: toText(result.value as ExpressionValue) };
}
