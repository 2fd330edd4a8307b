import { closestMatch, didYouMean, listNames } from './did-you-mean';
import type { ExpressionNode } from './expression-ast';
import { statusFunctionNames } from './expression-context';
import { describeArity } from './expression-evaluator';
import { functionArity, functionNames, functionUsage } from './expression-functions';

/** A static problem in an expression: a code, a message, the offset in the source and a fix. */
export interface ExpressionProblem {
  code: 'unknown_function' | 'expression_syntax' | 'expression_context';
  message: string;
  offset: number;
  hint: string;
}

/** What an expression may refer to where it is written. */
export interface ExpressionScope {
  /** Allowed root names (`env`, `needs`, …). */
  contexts: readonly string[];
  /** Whether `success()`, `failure()`, `always()`, `cancelled()` are allowed (only in a job's `if:`). */
  statusFunctions: boolean;
  /** Jobs `needs.<name>` may name (the job's dependencies), when `needs` is allowed. */
  needs?: readonly string[];
  /** Axes `matrix.<name>` may name. */
  matrixAxes?: readonly string[];
}

/**
 * Checks a parsed expression against where it is used: known functions with the right number of arguments,
 * known contexts, `needs.<job>` naming a dependency, `matrix.<axis>` naming an axis.
 */
export function checkExpressionTree(root: ExpressionNode, scope: ExpressionScope): ExpressionProblem[] {
  const problems: ExpressionProblem[] = [];
  const visit = (node: ExpressionNode): void => {
    switch (node.type) {
      case 'call': {
        const arity = functionArity[node.name];
        if (!arity) {
          const match = closestMatch(node.name, functionNames);
          problems.push({
            code: 'unknown_function',
            message: `unknown function ${node.name}()${match ? ` (did you mean ${match}()?)` : ''}`,
            offset: node.offset,
            hint: `available functions: ${functionNames.join(', ')}`,
          });
        } else if (node.args.length < arity[0] || node.args.length > arity[1]) {
          problems.push({
            code: 'expression_syntax',
            message: `${node.name}() takes ${describeArity(arity)}, got ${node.args.length}`,
            offset: node.offset,
            hint: `call it as ${functionUsage[node.name] ?? `${node.name}(…)`}`,
          });
        } else if (!scope.statusFunctions && (statusFunctionNames as readonly string[]).includes(node.name)) {
          problems.push({
            code: 'expression_context',
            message: `${node.name}() is only available in a job's if:`,
            offset: node.offset,
            hint: "move the condition to the job's if:",
          });
        }
        node.args.forEach(visit);
        return;
      }
      case 'context':
        if (!scope.contexts.includes(node.name)) {
          problems.push({
            code: 'expression_context',
            message: `unknown context '${node.name}'${didYouMean(node.name, scope.contexts)}`,
            offset: node.offset,
            hint: `available here: ${scope.contexts.join(', ')}; strings need single quotes ('${node.name}')`,
          });
        }
        return;
      case 'member': {
        checkNamedMember(node, scope, problems);
        visit(node.object);
        visit(node.property);
        return;
      }
      case 'not':
        visit(node.operand);
        return;
      case 'binary':
      case 'logical':
        visit(node.left);
        visit(node.right);
        return;
      case 'literal':
        return;
    }
  };
  visit(root);
  return problems;
}

function checkNamedMember(
  node: Extract<ExpressionNode, { type: 'member' }>,
  scope: ExpressionScope,
  problems: ExpressionProblem[],
): void {
  if (node.object.type !== 'context' || node.property.type !== 'literal' || typeof node.property.value !== 'string') {
    return;
  }
  const name = node.property.value;
  if (node.object.name === 'needs' && scope.needs && !scope.needs.includes(name)) {
    problems.push({
      code: 'expression_context',
      message: `needs.${name}: '${name}' is not a dependency of this job${didYouMean(name, scope.needs)}`,
      offset: node.property.offset,
      hint: `add '${name}' to depends_on, or use one of: ${listNames([...scope.needs])}`,
    });
  }
  if (node.object.name === 'matrix' && scope.matrixAxes && !scope.matrixAxes.includes(name)) {
    problems.push({
      code: 'expression_context',
      message: `matrix.${name}: the job's matrix has no '${name}'${didYouMean(name, scope.matrixAxes)}`,
      offset: node.property.offset,
      hint: `matrix values here: ${listNames([...scope.matrixAxes])}`,
    });
  }
}
