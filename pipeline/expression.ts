import type { ExpressionNode, ExpressionValue } from './expression-ast';
import { checkExpressionTree, type ExpressionProblem, type ExpressionScope } from './expression-check';
import type { ExpressionContext } from './expression-context';
import { ExpressionError } from './expression-error';
import { evaluateNode } from './expression-evaluator';
import { parseExpressionSource } from './expression-parser';

/** The outcome of {@link evaluateExpression}. */
export type EvaluationResult =
  | { ok: true; value: ExpressionValue }
  | { ok: false; message: string; /** 0-based offset in the expression source. */ offset: number };

/** The outcome of {@link parseExpression}. */
export type ParseExpressionResult =
  | { ok: true; tree: ExpressionNode }
  | { ok: false; message: string; /** 0-based offset in the expression source. */ offset: number };

/**
 * Removes one `${{ … }}` wrapper around a whole expression (`if: ${{ success() }}` and `if: success()` mean the
 * same). Returns the inner source and how many characters were dropped in front, so offsets still match.
 */
export function unwrapExpression(source: string): { source: string; offset: number } {
  const match = /^(\s*\$\{\{)([\s\S]*)\}\}\s*$/.exec(source);
  if (!match || match[2]?.includes('}}')) return { source, offset: 0 };
  return { source: match[2] ?? '', offset: match[1]?.length ?? 0 };
}

/** Parses an expression (with or without a `${{ }}` wrapper). Never throws. */
export function parseExpression(source: string): ParseExpressionResult {
  const inner = unwrapExpression(source);
  try {
    return { ok: true, tree: parseExpressionSource(inner.source) };
  } catch (error) {
    return failure(error, inner.offset);
  }
}

/**
 * Evaluates an expression — e.g. a job's `if:` — against a context the caller supplies: `needs.*` results,
 * `env`, `vars`, `matrix`, and the status behind `success()`, `failure()`, `always()`, `cancelled()`.
 * A hand-written interpreter: no `eval`, no `vm`; evaluation is bounded in size, depth and steps. Never throws.
 *
 * @example evaluateExpression("needs.build.result == 'success'", { needs: { build: { result: 'success' } } })
 */
export function evaluateExpression(source: string, context: ExpressionContext = {}): EvaluationResult {
  const inner = unwrapExpression(source);
  try {
    return { ok: true, value: evaluateNode(parseExpressionSource(inner.source), context) };
  } catch (error) {
    return failure(error, inner.offset);
  }
}

/**
 * Checks an expression statically for where it is used: syntax, known functions and arities, known contexts,
 * `needs.<job>` naming a dependency. Returns every problem found (offsets into `source`).
 */
export function checkExpression(source: string, scope: ExpressionScope): ExpressionProblem[] {
  const parsed = parseExpression(source);
  if (!parsed.ok) {
    return [{ code: 'expression_syntax', message: parsed.message, offset: parsed.offset, hint: syntaxHint }];
  }
  const offset = unwrapExpression(source).offset;
  return checkExpressionTree(parsed.tree, scope).map((problem) => ({ ...problem, offset: problem.offset + offset }));
}

/** Whether the expression calls one of the status functions (then it decides for itself after a failure). */
export function usesStatusFunction(tree: ExpressionNode): boolean {
  switch (tree.type) {
    case 'call':
      return ['success', 'failure', 'always', 'cancelled'].includes(tree.name) || tree.args.some(usesStatusFunction);
    case 'member':
      return usesStatusFunction(tree.object) || usesStatusFunction(tree.property);
    case 'not':
      return usesStatusFunction(tree.operand);
    case 'binary':
    case 'logical':
      return usesStatusFunction(tree.left) || usesStatusFunction(tree.right);
    default:
      return false;
  }
}

const syntaxHint =
  "expressions use ==, !=, <, <=, >, >=, &&, ||, !, parentheses, 'single-quoted strings', numbers, true/false/null, " +
  'property access (needs.build.result) and function calls';

function failure(error: unknown, offset: number): { ok: false; message: string; offset: number } {
  if (error instanceof ExpressionError) return { ok: false, message: error.message, offset: error.offset + offset };
  // A RangeError from an absurdly deep input is the only other thing that can surface here.
  return { ok: false, message: 'the expression is too complex', offset };
}

export type { ExpressionProblem, ExpressionScope };
