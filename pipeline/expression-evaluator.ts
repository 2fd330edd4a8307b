import type { ExpressionNode, ExpressionValue } from './expression-ast';
import { compare, isTruthy, looselyEqual } from './expression-coercion';
import type { ExpressionContext } from './expression-context';
import { ExpressionError } from './expression-error';
import { applyFunction, functionArity } from './expression-functions';

/** Most nodes one evaluation may visit: with no loops in the language, this bounds its time. */
const maxEvaluationSteps = 10_000;

/** Evaluates a parsed expression against a context. Throws {@link ExpressionError} on a runtime problem. */
export function evaluateNode(root: ExpressionNode, context: ExpressionContext): ExpressionValue {
  let steps = 0;
  const evaluate = (node: ExpressionNode): ExpressionValue => {
    if (++steps > maxEvaluationSteps) {
      throw new ExpressionError(`evaluation took more than ${maxEvaluationSteps} steps`, node.offset);
    }
    switch (node.type) {
      case 'literal':
        return node.value;
      case 'context':
        return ownValue(context, node.name) ?? null;
      case 'member': {
        const object = evaluate(node.object);
        const property = evaluate(node.property);
        if (Array.isArray(object)) {
          return typeof property === 'number' && Number.isInteger(property) ? (object[property] ?? null) : null;
        }
        if (typeof object === 'object' && object !== null && typeof property === 'string') {
          return ownValue(object, property) ?? null;
        }
        return null;
      }
      case 'not':
        return !isTruthy(evaluate(node.operand));
      case 'logical': {
        const left = evaluate(node.left);
        if (node.operator === '&&') return isTruthy(left) ? evaluate(node.right) : left;
        return isTruthy(left) ? left : evaluate(node.right);
      }
      case 'binary': {
        const left = evaluate(node.left);
        const right = evaluate(node.right);
        switch (node.operator) {
          case '==':
            return looselyEqual(left, right);
          case '!=':
            return !looselyEqual(left, right);
          case '<':
            return compare(left, right) < 0;
          case '<=':
            return compare(left, right) <= 0;
          case '>':
            return compare(left, right) > 0;
          case '>=':
            return compare(left, right) >= 0;
        }
        break;
      }
      case 'call': {
        const arity = functionArity[node.name];
        if (!arity) throw new ExpressionError(`unknown function ${node.name}()`, node.offset);
        if (node.args.length < arity[0] || node.args.length > arity[1]) {
          throw new ExpressionError(
            `${node.name}() takes ${describeArity(arity)}, got ${node.args.length}`,
            node.offset,
          );
        }
        const status = statusOf(context);
        switch (node.name) {
          case 'always':
            return true;
          case 'success':
            return status.success && !status.cancelled;
          case 'failure':
            return status.failure;
          case 'cancelled':
            return status.cancelled;
          default:
            return applyFunction(node.name, node.args.map(evaluate), node.offset);
        }
      }
    }
    return null;
  };
  return evaluate(root);
}

/** `2 arguments`, `1 to 2 arguments`, `no arguments`. */
export function describeArity([min, max]: readonly [number, number]): string {
  if (max === 0) return 'no arguments';
  if (min === max) return `${min} argument${min === 1 ? '' : 's'}`;
  return max >= 64 ? `at least ${min} argument${min === 1 ? '' : 's'}` : `${min} to ${max} arguments`;
}

function statusOf(context: ExpressionContext): { success: boolean; failure: boolean; cancelled: boolean } {
  if (context.status) return context.status;
  const results = Object.values(context.needs ?? {}).map((need) => need.result);
  return {
    success: results.every((result) => result === 'success'),
    failure: results.some((result) => result === 'failed'),
    cancelled: false,
  };
}

// Only own properties: an expression must never reach `__proto__`, `constructor` or other inherited members.
function ownValue(object: object, key: string): ExpressionValue | undefined {
  if (!Object.prototype.hasOwnProperty.call(object, key)) return undefined;
  const value = (object as Record<string, unknown>)[key];
  return value === undefined ? undefined : (value as ExpressionValue);
}
