/** A piece of a string field as Conveyor reads it. */
export type TemplateSegment =
  | { kind: 'text'; text: string }
  /** `$${` — a literal `${` for the shell. */
  | { kind: 'escape' }
  | VariableReference
  | { kind: 'expression'; source: string; raw: string; offset: number };

/** `${NAME}`, `${NAME:-default}`, `${NAME:+alternate}`, `${NAME/pattern/replacement}`, `${NAME//pattern/replacement}`. */
export interface VariableReference {
  kind: 'variable';
  /** `NAME`, or a dotted name such as `secrets.TOKEN` or `matrix.node`. */
  name: string;
  operator?: ':-' | ':+' | '/' | '//';
  /** The default, the alternate or the replacement (itself a template). */
  argument?: TemplateSegment[];
  /** The literal text to replace (for `/` and `//`). */
  pattern?: string;
  /** The reference as written, for messages and for keeping it symbolic. */
  raw: string;
  /** 0-based offset of the `$` in the string. */
  offset: number;
}

/** A malformed reference. */
export interface TemplateSyntaxError {
  message: string;
  offset: number;
  raw: string;
}

const namePattern = /^(?:(?:secrets|matrix|vars)\.[A-Za-z_][A-Za-z0-9_-]*|[A-Za-z_][A-Za-z0-9_]*)/;

/** Quick test: does the text contain anything Conveyor substitutes? */
export function hasReferences(text: string): boolean {
  return text.includes('${');
}

/**
 * Reads a string field into literal text, escapes, variable references and `${{ }}` expressions. `$NAME`
 * without braces is shell syntax and stays text. Never throws: malformed references are returned as errors
 * and kept as text.
 */
export function parseTemplate(text: string): { segments: TemplateSegment[]; errors: TemplateSyntaxError[] } {
  const errors: TemplateSyntaxError[] = [];
  const { segments } = parseUntil(text, 0, false, errors, 0);
  return { segments, errors };
}

function parseUntil(
  text: string,
  start: number,
  stopAtBrace: boolean,
  errors: TemplateSyntaxError[],
  depth: number,
): { segments: TemplateSegment[]; end: number; closed: boolean } {
  const segments: TemplateSegment[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal !== '') segments.push({ kind: 'text', text: literal });
    literal = '';
  };
  let index = start;
  while (index < text.length) {
    const character = text[index];
    if (stopAtBrace && character === '}') {
      flush();
      return { segments, end: index + 1, closed: true };
    }
    if (character !== '$') {
      // Take the whole run of plain text up to the next `$` (or the closing brace) at once.
      let next = text.indexOf('$', index);
      if (next === -1) next = text.length;
      if (stopAtBrace) {
        const brace = text.indexOf('}', index);
        if (brace !== -1 && brace < next) next = brace;
      }
      literal += text.slice(index, next);
      index = next;
      continue;
    }
    if (text.startsWith('$${', index)) {
      flush();
      segments.push({ kind: 'escape' });
      index += 3;
      continue;
    }
    if (text.startsWith('${{', index)) {
      const close = findExpressionEnd(text, index + 3);
      if (close < 0) {
        errors.push({
          message: "unterminated expression: '${{' has no closing '}}'",
          offset: index,
          raw: text.slice(index, index + 20),
        });
        literal += text.slice(index);
        index = text.length;
        continue;
      }
      flush();
      segments.push({
        kind: 'expression',
        source: text.slice(index + 3, close),
        raw: text.slice(index, close + 2),
        offset: index,
      });
      index = close + 2;
      continue;
    }
    if (text[index + 1] !== '{') {
      literal += character;
      index++;
      continue;
    }
    const parsed = parseReference(text, index, errors, depth);
    if (parsed.reference) {
      flush();
      segments.push(parsed.reference);
    } else {
      literal += text.slice(index, parsed.end);
    }
    index = parsed.end;
  }
  flush();
  return { segments, end: index, closed: false };
}

function parseReference(
  text: string,
  start: number,
  errors: TemplateSyntaxError[],
  depth: number,
): { reference?: VariableReference; end: number } {
  const bodyStart = start + 2;
  const name = namePattern.exec(text.slice(bodyStart))?.[0] ?? '';
  const after = bodyStart + name.length;
  const fail = (message: string): { end: number } => {
    const close = text.indexOf('}', start);
    const end = close < 0 ? text.length : close + 1;
    errors.push({ message, offset: start, raw: text.slice(start, end) });
    return { end };
  };
  if (depth > 8) return fail('variable references are nested too deeply');
  if (name === '') {
    const close = text.indexOf('}', start);
    const inside = close < 0 ? text.slice(bodyStart) : text.slice(bodyStart, close);
    if (close < 0) return fail(`unterminated variable reference '${text.slice(start, start + 20)}' (missing '}')`);
    return fail(`'\${${inside}}' is not a valid variable reference (names start with a letter or _)`);
  }
  const next = text[after];
  if (next === '}') {
    return { reference: { kind: 'variable', name, raw: text.slice(start, after + 1), offset: start }, end: after + 1 };
  }
  if (next === ':' && (text[after + 1] === '-' || text[after + 1] === '+')) {
    const operator = text[after + 1] === '-' ? ':-' : ':+';
    const inner = parseUntil(text, after + 2, true, errors, depth + 1);
    if (!inner.closed) return fail(`unterminated variable reference '${text.slice(start, start + 30)}' (missing '}')`);
    return {
      reference: {
        kind: 'variable',
        name,
        operator,
        argument: inner.segments,
        raw: text.slice(start, inner.end),
        offset: start,
      },
      end: inner.end,
    };
  }
  if (next === '/') {
    const all = text[after + 1] === '/';
    let index = after + (all ? 2 : 1);
    let pattern = '';
    let separated = false;
    if (text[index] === '/') {
      // `${VAR///-}` (the design documents' spelling of "every / becomes -") reads as `${VAR//\//-}`.
      pattern = '/';
      index++;
      if (text[index] === '/') index++;
      separated = true;
    } else {
      while (index < text.length && text[index] !== '/' && text[index] !== '}') {
        if (text[index] === '\\' && (text[index + 1] === '/' || text[index + 1] === '}' || text[index + 1] === '\\'))
          index++;
        pattern += text[index++];
      }
    }
    if (pattern === '') return fail(`'${text.slice(start, index + 1)}' has an empty pattern`);
    if (!separated && text[index] === '/') index++;
    if (text[index] === '}') {
      return {
        reference: {
          kind: 'variable',
          name,
          operator: all ? '//' : '/',
          pattern,
          argument: [],
          raw: text.slice(start, index + 1),
          offset: start,
        },
        end: index + 1,
      };
    }
    const inner = parseUntil(text, index, true, errors, depth + 1);
    if (!inner.closed) return fail(`unterminated variable reference '${text.slice(start, start + 30)}' (missing '}')`);
    return {
      reference: {
        kind: 'variable',
        name,
        operator: all ? '//' : '/',
        pattern,
        argument: inner.segments,
        raw: text.slice(start, inner.end),
        offset: start,
      },
      end: inner.end,
    };
  }
  if (next === undefined) return fail(`unterminated variable reference '${text.slice(start)}' (missing '}')`);
  const close = text.indexOf('}', start);
  const written = close < 0 ? text.slice(start) : text.slice(start, close + 1);
  return fail(
    `'${written}' is not a supported reference: use \${NAME}, \${NAME:-default}, \${NAME:+alternate} or \${NAME/pattern/replacement}`,
  );
}

/** Index of the `}}` closing an expression that starts at `start`, skipping quoted strings; -1 if none. */
function findExpressionEnd(text: string, start: number): number {
  let index = start;
  while (index < text.length) {
    if (text[index] === "'") {
      index++;
      while (index < text.length && !(text[index] === "'" && text[index + 1] !== "'")) {
        index += text[index] === "'" ? 2 : 1;
      }
      index++;
      continue;
    }
    if (text.startsWith('}}', index)) return index;
    index++;
  }
  return -1;
}

/** Escapes literal text so that it survives as text in a template: `${` becomes `$${`. */
export function escapeTemplateText(text: string): string {
  return text.includes('${') ? text.replace(/\$\{/g, () => '$${') : text;
}
