import type { ExpressionValue } from './expression-ast';
import { ExpressionError } from './expression-error';
import { looselyEqual, toText } from './expression-coercion';

/** Longest string a function may produce or read (fromJSON input, format/join/toJSON output). */
const maxStringLength = 1_000_000;

/** Arity of every function of the language: `[min, max]` arguments. */
export const functionArity: Record<string, readonly [number, number]> = {
  contains: [2, 2],
  startsWith: [2, 2],
  endsWith: [2, 2],
  join: [1, 2],
  format: [1, 64],
  fromJSON: [1, 1],
  toJSON: [1, 1],
  success: [0, 0],
  failure: [0, 0],
  always: [0, 0],
  cancelled: [0, 0],
};

/** How each function is called, for hints and docs. */
export const functionUsage: Record<string, string> = {
  contains: "contains(listOrString, 'item')",
  startsWith: "startsWith(text, 'prefix')",
  endsWith: "endsWith(text, 'suffix')",
  join: "join(list, ', ')",
  format: "format('v{0}.{1}', major, minor)",
  fromJSON: 'fromJSON(text)',
  toJSON: 'toJSON(value)',
  success: 'success()',
  failure: 'failure()',
  always: 'always()',
  cancelled: 'cancelled()',
};

/** Names of every function of the language. */
export const functionNames = Object.keys(functionArity);

function capped(text: string, offset: number): string {
  if (text.length > maxStringLength) {
    throw new ExpressionError(`a function produced more than ${maxStringLength} characters`, offset);
  }
  return text;
}

/** Applies one of the pure (non-status) functions. Throws {@link ExpressionError} on bad input. */
export function applyFunction(name: string, args: ExpressionValue[], offset: number): ExpressionValue {
  const [first = null, second = null] = args;
  switch (name) {
    case 'contains':
      if (Array.isArray(first)) return first.some((item) => looselyEqual(item, second));
      return toText(first).toLowerCase().includes(toText(second).toLowerCase());
    case 'startsWith':
      return toText(first).toLowerCase().startsWith(toText(second).toLowerCase());
    case 'endsWith':
      return toText(first).toLowerCase().endsWith(toText(second).toLowerCase());
    case 'join': {
      const separator = args.length > 1 ? toText(second) : ',';
      return capped(Array.isArray(first) ? first.map(toText).join(separator) : toText(first), offset);
    }
    case 'format':
      return capped(format(toText(first), args.slice(1), offset), offset);
    case 'fromJSON': {
      const text = toText(first);
      if (text.length > maxStringLength) throw new ExpressionError('fromJSON input is too long', offset);
      try {
        return JSON.parse(text) as ExpressionValue;
      } catch {
        throw new ExpressionError(`fromJSON: '${text.slice(0, 40)}' is not valid JSON`, offset);
      }
    }
    case 'toJSON':
      return capped(JSON.stringify(first, null, 2) ?? 'null', offset);
    default:
      throw new ExpressionError(`unknown function ${name}()`, offset);
  }
}

/** `format('v{0}.{1}', a, b)`; `{}` takes the next argument; `{{` and `}}` are literal braces. */
function format(template: string, args: ExpressionValue[], offset: number): string {
  let result = '';
  let next = 0;
  for (let index = 0; index < template.length; index++) {
    const character = template[index];
    if (character === '{' && template[index + 1] === '{') {
      result += '{';
      index++;
    } else if (character === '}' && template[index + 1] === '}') {
      result += '}';
      index++;
    } else if (character === '{') {
      const close = template.indexOf('}', index);
      const inside = close < 0 ? 'x' : template.slice(index + 1, close);
      if (!/^\d*$/.test(inside)) {
        throw new ExpressionError(`format: invalid placeholder in '${template}' (use {0}, {1}… or {})`, offset);
      }
      const position = inside === '' ? next++ : Number(inside);
      if (position >= args.length) {
        throw new ExpressionError(`format: placeholder {${inside}} has no argument (${args.length} given)`, offset);
      }
      result += toText(args[position] ?? null);
      index = close;
      if (result.length > maxStringLength) break;
    } else if (character === '}') {
      throw new ExpressionError(`format: unmatched '}' in '${template}' (write '}}' for a literal brace)`, offset);
    } else {
      result += character;
    }
  }
  return result;
}
