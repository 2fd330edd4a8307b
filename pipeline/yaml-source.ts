import type { Document, Node, Pair } from 'yaml';
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { SourceLocator } from './diagnostics';
import type { Diagnostic } from './model';
import { formatPath, type PathSegment } from './path';

/** The YAML file as plain data, plus what is needed to point back into the text. */
export interface YamlSource {
  /** The document as plain JSON-like data (`undefined` when the file could not be read as one document). */
  value: unknown;
  /** YAML-level errors: syntax, duplicate keys, more than one document, disallowed tags. */
  errors: Diagnostic[];
  /** Maps a document path to a line and column. */
  locator: SourceLocator;
}

/** Deeper nesting than this is refused before anything recurses over the document. */
export const maxNestingDepth = 64;
/** Alias expansions allowed while materialising the document (defeats "billion laughs" files). */
const maxAliasCount = 1000;
/** How the `yaml` library is asked to parse: `<<` merges on, duplicate keys are errors. */
export const yamlParseOptions = { merge: true, uniqueKeys: true, prettyErrors: false } as const;

/**
 * Parses pipeline YAML safely: YAML 1.2 core schema (so `yes`/`no`/`on` stay strings), anchors, aliases and `<<`
 * merge keys supported; duplicate keys, more than one document and any tag outside the core schema are errors,
 * so no tag can construct anything. Never throws.
 */
export function readYaml(source: string): YamlSource {
  const { first, extras, position } = parseDocuments(source);
  const errors: Diagnostic[] = [];
  const fail = (code: string, message: string, offset: number, hint: string, path = ''): void => {
    errors.push({ code, message, ...position(offset), path, hint });
  };
  if (!first) return { value: undefined, errors, locator: wholeFileLocator };
  const locator = createLocator(first, source, position);

  for (const extra of extras) {
    if (extra.contents === null && extra.errors.length === 0) continue;
    fail(
      'multiple_documents',
      `the file holds more than one YAML document (a second one starts at line ${position(extra.range[0]).line})`,
      extra.range[0],
      'a pipeline file holds exactly one document: remove the `---` separator and everything after it, or move the second pipeline to its own file',
    );
    break;
  }
  for (const problem of first.errors) {
    const offset = problem.pos[0];
    if (problem.code === 'DUPLICATE_KEY') {
      const segments = pathAtOffset(first, offset);
      const key = String(segments[segments.length - 1] ?? source.slice(offset, problem.pos[1]).trim());
      const path = formatPath(segments);
      fail(
        'duplicate_key',
        `${path === '' ? '' : `${path}: `}duplicate key '${key}'`,
        offset,
        'YAML keys must be unique within a mapping: remove or rename one of the entries (other tools silently keep the last one)',
        path,
      );
    } else {
      fail('yaml_syntax', `YAML syntax error: ${describeYamlError(problem.message)}`, offset, yamlHint(problem.code));
    }
  }
  for (const warning of first.warnings) {
    if (warning.code !== 'TAG_RESOLVE_FAILED') continue;
    fail(
      'yaml_syntax',
      `YAML tag ${source.slice(warning.pos[0], warning.pos[1]) || 'here'} is not allowed`,
      warning.pos[0],
      'remove the tag: pipeline files use plain YAML values only (strings, numbers, booleans, null, lists, mappings)',
    );
  }
  if (errors.length > 0) return { value: undefined, errors, locator };

  try {
    const value: unknown = first.toJS({ maxAliasCount });
    if (nestingDepth(value) > maxNestingDepth) {
      fail(
        'yaml_syntax',
        `the document is nested more than ${maxNestingDepth} levels deep`,
        0,
        'flatten the structure: a pipeline needs only a few levels of nesting',
      );
      return { value: undefined, errors, locator };
    }
    return { value, errors, locator };
  } catch (error) {
    fail(
      'yaml_syntax',
      `the document could not be expanded: ${error instanceof Error ? error.message : String(error)}`,
      0,
      `aliases may expand to at most ${maxAliasCount} copies in total: use fewer nested aliases`,
    );
    return { value: undefined, errors, locator };
  }
}

/**
 * The locator of {@link readYaml} on its own: where a document path sits in `source`, with the `yaml` library's
 * positions. For callers that already have the document's data and only need an occasional location.
 */
export function readYamlLocator(source: string): SourceLocator {
  const { first, position } = parseDocuments(source);
  return first ? createLocator(first, source, position) : wholeFileLocator;
}

const wholeFileLocator: SourceLocator = { locate: () => ({ line: 1, column: 1 }) };

/** Parses with the options every reader here shares, and maps offsets to 1-based line and column. */
function parseDocuments(source: string): {
  first: Document.Parsed | undefined;
  extras: Document.Parsed[];
  position: Position;
} {
  const lineCounter = new LineCounter();
  const position = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, source.length)));
    return { line, column: col };
  };
  const documents = parseAllDocuments(source, { lineCounter, ...yamlParseOptions });
  const all = Array.isArray(documents) ? documents : [];
  return { first: all[0], extras: all.slice(1), position };
}

function describeYamlError(message: string): string {
  const firstLine = message.split('\n')[0] ?? message;
  return firstLine.replace(/ at line \d+, column \d+:?$/, '');
}

function yamlHint(code: string): string {
  switch (code) {
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return 'check the indentation and that every [ or { is closed; nested keys are indented more than their parent';
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'a key must fit on one line and be followed by `: `; quote values that contain `: `';
    case 'TAB_AS_INDENT':
      return 'YAML indentation uses spaces, not tabs';
    case 'BAD_ALIAS':
      return 'an alias (*name) must refer to an anchor (&name) defined earlier in the file';
    default:
      return 'fix the YAML syntax at this position; quote strings that contain `: `, `#`, `{` or `[`';
  }
}

/** How deeply lists and mappings nest in a plain value (iterative: never overflows the stack itself). */
function nestingDepth(root: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value !== 'object' || value === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > maxNestingDepth) return deepest;
    for (const child of Object.values(value))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return deepest;
}

function isNodeWithRange(value: unknown): value is Node & { range: [number, number, number] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { range?: unknown }).range);
}

/** The path of the innermost mapping entry whose key starts at `offset`, or `[]`. */
function pathAtOffset(document: Document.Parsed, offset: number): PathSegment[] {
  const walk = (node: unknown, path: PathSegment[], depth: number): PathSegment[] | undefined => {
    if (depth > maxNestingDepth) return undefined;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = keyText(pair.key) ?? '?';
        if (isNodeWithRange(pair.key) && pair.key.range[0] === offset) return [...path, key];
        const found = walk(pair.value, [...path, key], depth + 1);
        if (found !== undefined) return found;
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) {
        const found = walk(item, [...path, index], depth + 1);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return walk(document.contents, [], 0) ?? [];
}

type Position = (offset: number) => { line: number; column: number };

function createLocator(document: Document.Parsed, source: string, position: Position): SourceLocator {
  const keyIndexes = new WeakMap<object, Map<string, Pair>>();
  const resolve = (node: unknown): unknown => (isAlias(node) ? node.resolve(document) : node);

  const findPair = (map: unknown, key: string, depth = 0): Pair | undefined => {
    if (!isMap(map) || depth > 8) return undefined;
    let index = keyIndexes.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items) {
        const key = keyText(pair.key);
        if (key !== undefined && !index.has(key)) index.set(key, pair);
      }
      keyIndexes.set(map, index);
    }
    const direct = index.get(key);
    if (direct) return direct;
    // Entries pulled in through `<<: *anchor` (or a list of anchors) live under the anchor's node.
    const merge = index.get('<<');
    if (!merge) return undefined;
    const sources = isSeq(resolve(merge.value)) ? (resolve(merge.value) as { items: unknown[] }).items : [merge.value];
    for (const mergeSource of sources) {
      const found = findPair(resolve(mergeSource), key, depth + 1);
      if (found) return found;
    }
    return undefined;
  };

  return {
    locate(path, options = {}) {
      let node: unknown = document.contents;
      let lastRange: [number, number, number] | undefined = isNodeWithRange(node) ? node.range : undefined;
      let keyRange: [number, number, number] | undefined;
      let complete = true;
      for (const segment of path) {
        const current = resolve(node);
        keyRange = undefined;
        if (isMap(current)) {
          const pair = findPair(current, String(segment));
          if (!pair) {
            complete = false;
            break;
          }
          keyRange = isNodeWithRange(pair.key) ? pair.key.range : undefined;
          node = pair.value;
          lastRange = isNodeWithRange(pair.value) ? pair.value.range : (keyRange ?? lastRange);
        } else if (isSeq(current) && typeof segment === 'number' && segment < current.items.length) {
          node = current.items[segment];
          lastRange = isNodeWithRange(node) ? node.range : lastRange;
        } else {
          complete = false;
          break;
        }
      }
      if (!lastRange) return { line: 1, column: 1 };
      if (complete && options.atKey && keyRange) return position(keyRange[0]);
      if (complete && options.needle !== undefined) {
        const found = source.slice(lastRange[0], lastRange[1]).indexOf(options.needle);
        if (found >= 0) return position(lastRange[0] + found);
      }
      if (complete && options.offset !== undefined && isScalar(node) && !isPair(node)) {
        const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
        const plain = quoted || node.type === 'PLAIN';
        if (plain) return position(lastRange[0] + (quoted ? 1 : 0) + options.offset);
      }
      return position(lastRange[0]);
    },
  };
}

/** The text of a mapping key; a `<<` merge key reads as `<<` (the YAML library marks it with a symbol). */
function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  return typeof key.value === 'symbol' ? '<<' : String(key.value);
}
