import type { ExpressionNode } from './expression-ast';
import { ExpressionError } from './expression-error';
import { tokenize, type Operator, type Token } from './expression-lexer';

/** Deepest nesting of parentheses, calls and operators accepted. */
export const maxExpressionDepth = 64;

/**
 * Parses an expression (`needs.build.result == 'success' && !cancelled()`) into a tree. Grammar, loosest
 * first: `||`, `&&`, `== !=`, `< <= > >=`, `!`, then member access (`a.b`, `a['b']`), calls and literals.
 * Throws {@link ExpressionError} with the offset of the problem.
 */
export function parseExpressionSource(source: string): ExpressionNode {
  const tokens = tokenize(source);
  if (tokens.length === 1) throw new ExpressionError('the expression is empty', 0);
  let position = 0;
  let depth = 0;

  const peek = (): Token => tokens[position] ?? { kind: 'end', offset: source.length };
  const isOperator = (value: Operator): boolean => {
    const token = peek();
    return token.kind === 'operator' && token.value === value;
  };
  const expect = (value: Operator, what: string): void => {
    if (!isOperator(value))
      throw new ExpressionError(`expected '${value}' ${what}, found ${describe(peek())}`, peek().offset);
    position++;
  };
  const enter = (offset: number): void => {
    if (++depth > maxExpressionDepth) {
      throw new ExpressionError(`the expression is nested more than ${maxExpressionDepth} levels deep`, offset);
    }
  };

  const parseLogical = (operator: '||' | '&&', next: () => ExpressionNode): ExpressionNode => {
    let left = next();
    while (isOperator(operator)) {
      position++;
      const right = next();
      left = { type: 'logical', operator, left, right, offset: left.offset };
    }
    return left;
  };
  const parseOr = (): ExpressionNode => {
    enter(peek().offset);
    const node = parseLogical('||', parseAnd);
    depth--;
    return node;
  };
  const parseAnd = (): ExpressionNode => parseLogical('&&', parseEquality);
  const parseBinary = (operators: readonly Operator[], next: () => ExpressionNode) => (): ExpressionNode => {
    let left = next();
    for (;;) {
      const token = peek();
      if (token.kind !== 'operator' || !operators.includes(token.value)) return left;
      position++;
      const right = next();
      left = {
        type: 'binary',
        operator: token.value as '==' | '!=' | '<' | '<=' | '>' | '>=',
        left,
        right,
        offset: left.offset,
      };
    }
  };
  const parseUnary = (): ExpressionNode => {
    const token = peek();
    if (token.kind === 'operator' && token.value === '!') {
      position++;
      enter(token.offset);
      const operand = parseUnary();
      depth--;
      return { type: 'not', operand, offset: token.offset };
    }
    return parsePostfix();
  };
  const parseComparison = parseBinary(['<', '<=', '>', '>='], parseUnary);
  const parseEquality = parseBinary(['==', '!='], parseComparison);

  const parsePostfix = (): ExpressionNode => {
    let node = parsePrimary();
    for (;;) {
      if (isOperator('.')) {
        position++;
        const name = peek();
        if (name.kind !== 'identifier') {
          throw new ExpressionError(`expected a property name after '.', found ${describe(name)}`, name.offset);
        }
        position++;
        node = {
          type: 'member',
          object: node,
          property: { type: 'literal', value: name.value, offset: name.offset },
          offset: node.offset,
        };
      } else if (isOperator('[')) {
        position++;
        const property = parseOr();
        expect(']', 'to close the index');
        node = { type: 'member', object: node, property, offset: node.offset };
      } else {
        return node;
      }
    }
  };

  const parsePrimary = (): ExpressionNode => {
    const token = peek();
    switch (token.kind) {
      case 'number':
      case 'string':
        position++;
        return { type: 'literal', value: token.value, offset: token.offset };
      case 'identifier': {
        position++;
        if (token.value === 'true' || token.value === 'false') {
          return { type: 'literal', value: token.value === 'true', offset: token.offset };
        }
        if (token.value === 'null') return { type: 'literal', value: null, offset: token.offset };
        if (!isOperator('(')) return { type: 'context', name: token.value, offset: token.offset };
        position++;
        enter(token.offset);
        const args: ExpressionNode[] = [];
        if (!isOperator(')')) {
          for (;;) {
            args.push(parseOr());
            if (!isOperator(',')) break;
            position++;
          }
        }
        expect(')', `to close the call of ${token.value}(`);
        depth--;
        return { type: 'call', name: token.value, args, offset: token.offset };
      }
      case 'operator':
        if (token.value === '(') {
          position++;
          const inner = parseOr();
          expect(')', 'to close the parenthesis');
          return inner;
        }
        throw new ExpressionError(`unexpected ${describe(token)}`, token.offset);
      case 'end':
        throw new ExpressionError('the expression ends too early', token.offset);
    }
  };

  const tree = parseOr();
  const rest = peek();
  if (rest.kind !== 'end') {
    throw new ExpressionError(
      `unexpected ${describe(rest)} after a complete expression (missing && or ||?)`,
      rest.offset,
    );
  }
  return tree;
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the expression';
    case 'string':
      return `string '${token.value}'`;
    case 'number':
      return `number ${token.value}`;
    default:
      return `'${token.value}'`;
  }
}
