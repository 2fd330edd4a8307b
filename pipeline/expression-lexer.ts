import { ExpressionError } from './expression-error';

/** A token of the expression language. */
export type Token =
  | { kind: 'number'; value: number; offset: number }
  | { kind: 'string'; value: string; offset: number }
  | { kind: 'identifier'; value: string; offset: number }
  | { kind: 'operator'; value: Operator; offset: number }
  | { kind: 'end'; offset: number };

/** Operators and punctuation. */
export type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||' | '!' | '(' | ')' | '[' | ']' | '.' | ',';

/** Longest expression accepted, in characters. */
export const maxExpressionLength = 10_000;

const twoCharacterOperators = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const oneCharacterOperators = new Set(['<', '>', '!', '(', ')', '[', ']', '.', ',']);

/** Splits an expression into tokens. Throws {@link ExpressionError} on a character it cannot read. */
export function tokenize(source: string): Token[] {
  if (source.length > maxExpressionLength) {
    throw new ExpressionError(`the expression is longer than ${maxExpressionLength} characters`, 0);
  }
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const character = source[index] ?? '';
    if (/\s/.test(character)) {
      index++;
      continue;
    }
    const start = index;
    const pair = source.slice(index, index + 2);
    const previous = tokens[tokens.length - 1];
    const afterValue =
      previous !== undefined && (previous.kind !== 'operator' || previous.value === ')' || previous.value === ']');
    if (/[0-9]/.test(character) || (character === '-' && !afterValue && /[0-9]/.test(source[index + 1] ?? ''))) {
      const match = /^-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(source.slice(index));
      const text = match?.[0] ?? character;
      index += text.length;
      if (/[A-Za-z_]/.test(source[index] ?? '')) {
        throw new ExpressionError(`unexpected '${source[index]}' after number ${text}`, index);
      }
      tokens.push({ kind: 'number', value: Number(text), offset: start });
    } else if (character === "'") {
      let value = '';
      index++;
      for (;;) {
        if (index >= source.length) throw new ExpressionError('unterminated string (missing closing quote)', start);
        const next = source[index] ?? '';
        if (next === "'") {
          if (source[index + 1] === "'") {
            value += "'";
            index += 2;
            continue;
          }
          index++;
          break;
        }
        value += next;
        index++;
      }
      tokens.push({ kind: 'string', value, offset: start });
    } else if (character === '"') {
      throw new ExpressionError("strings use single quotes: 'text' (write '' for a quote inside)", start);
    } else if (/[A-Za-z_]/.test(character)) {
      const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(index));
      const text = match?.[0] ?? character;
      index += text.length;
      tokens.push({ kind: 'identifier', value: text, offset: start });
    } else if (twoCharacterOperators.has(pair)) {
      index += 2;
      tokens.push({ kind: 'operator', value: pair as Operator, offset: start });
    } else if (oneCharacterOperators.has(character)) {
      index++;
      tokens.push({ kind: 'operator', value: character as Operator, offset: start });
    } else if (character === '=' || character === '&' || character === '|') {
      const meant = character === '=' ? '==' : character + character;
      throw new ExpressionError(`unexpected '${character}' (did you mean '${meant}'?)`, start);
    } else {
      throw new ExpressionError(`unexpected character '${character}'`, start);
    }
  }
  tokens.push({ kind: 'end', offset: source.length });
  return tokens;
}
