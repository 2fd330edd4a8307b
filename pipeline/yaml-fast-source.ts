import { EVENT_ID, SCALAR_STYLE, getScalarValue, parseEvents, type ScalarEvent } from 'js-yaml';
import { Document, LineCounter, isScalar, type ScalarTag } from 'yaml';
import type { SourceLocator } from './diagnostics';
import { maxNestingDepth, readYamlLocator, yamlParseOptions, type YamlSource } from './yaml-source';

/*
 * `readYaml` composes a full `yaml` library document (every node with its range) before a single value is
 * read; for a large pipeline that is most of the time `parsePipeline` takes. This reader tokenises with js-yaml's
 * event parser instead and builds the plain value itself, resolving plain scalars with the `yaml` library's own
 * core-schema tags, so the value is the one `readYaml` would return. It declines (returns `undefined`) whenever
 * it cannot be sure of that: tags, anchors, aliases, `<<` merge keys, directives, more than one document, keys
 * that are not strings, duplicate keys, deep nesting, unusual line breaks, or anything js-yaml rejects. Then the
 * caller uses `readYaml`, which also words the errors.
 *
 * Locations come from the same events: a scalar's range and a collection's start are what the `yaml` library
 * records, and lines are counted the way its `LineCounter` counts them. Where the events do not carry what a
 * location needs (an empty value, a block scalar, the end of a collection), the locator asks the `yaml` library,
 * parsing the text once, on first need.
 */

/** A scalar as js-yaml reports it; ranges are offsets into the source. */
type ScalarNode = ScalarEvent;
interface MappingNode {
  kind: 'mapping';
  start: number;
  /** The keys in order; entry `i` has its key node at `nodes[2i]` and its value node at `nodes[2i + 1]`. */
  keys: string[];
  nodes: SourceNode[];
  /** Entry index by key, built on the first lookup in a large mapping. */
  index?: Map<string, number>;
}
interface SequenceNode {
  kind: 'sequence';
  start: number;
  items: SourceNode[];
}
type SourceNode = ScalarNode | MappingNode | SequenceNode;

/** An open collection while the events are read: its value and its node. */
type Frame =
  | { node: MappingNode; value: Record<string, unknown>; key: { text: string; node: ScalarNode } | undefined }
  | { node: SequenceNode; value: unknown[] };

/** Longest mapping key taken on this path (the `yaml` library refuses implicit keys over 1024 characters). */
const maxKeyLength = 1000;
/** A plain scalar starting with anything else is a string under the core schema (see `plainScalarTags`). */
const mayResolveToNonString = /^[-+.0-9~nNtTfF]/;

/**
 * Reads pipeline YAML the fast way, or returns `undefined` when the text needs `readYaml` (see above). A result
 * is always one `readYaml` would give for the same text: a value, no errors, and the same locations.
 */
export function readYamlFast(source: string): YamlSource | undefined {
  // The `yaml` library treats a byte-order mark, a lone carriage return and a tab among the indentation (which
  // js-yaml sometimes accepts) in its own way; leave them to it.
  // (The cheap `includes` first: the expressions scan the whole text, which most files never need.)
  if (
    source.includes('\uFEFF') ||
    (source.includes('\r') && /\r(?!\n)/.test(source)) ||
    (source.includes('\t') && /^[ ?:-]*\t/m.test(source))
  )
    return undefined;
  let events: ReturnType<typeof parseEvents>;
  try {
    events = parseEvents(source, { maxDepth: maxNestingDepth + 1 });
  } catch {
    return undefined;
  }
  const composed = compose(events, source);
  if (!composed) return undefined;
  return { value: composed.value, errors: [], locator: createFastLocator(composed.root, source) };
}

function compose(
  events: ReturnType<typeof parseEvents>,
  source: string,
): { value: Record<string, unknown>; root: MappingNode } | undefined {
  const stack: Frame[] = [];
  let documents = 0;
  let root: { value: unknown; node: SourceNode } | undefined;

  /** Places a value in the open collection; false when the document needs `readYaml`. */
  const attach = (value: unknown, node: SourceNode): boolean => {
    const frame = stack[stack.length - 1];
    if (!frame) {
      if (root) return false;
      root = { value, node };
      return true;
    }
    if ('items' in frame.node) {
      (frame.value as unknown[]).push(value);
      frame.node.items.push(node);
      return true;
    }
    const mapping = frame as Extract<Frame, { key: unknown }>;
    if (!mapping.key) {
      const text = 'type' in node ? keyText(node, source) : undefined;
      if (text === undefined || Object.prototype.hasOwnProperty.call(mapping.value, text)) return false;
      mapping.key = { text, node: node as ScalarNode };
      return true;
    }
    const { text, node: keyNode } = mapping.key;
    mapping.key = undefined;
    // As the `yaml` library does: a key the object already answers (`__proto__`, `constructor`) becomes an own
    // property instead of an assignment, so nothing reaches the prototype.
    if (text in mapping.value)
      Object.defineProperty(mapping.value, text, { value, writable: true, enumerable: true, configurable: true });
    else mapping.value[text] = value;
    mapping.node.keys.push(text);
    mapping.node.nodes.push(keyNode, node);
    return true;
  };

  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        documents++;
        if (documents > 1 || event.directives.length > 0) return undefined;
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        if (event.tagStart !== -1 || event.anchorStart !== -1 || stack.length >= maxNestingDepth) return undefined;
        const frame: Frame =
          event.type === EVENT_ID.MAPPING
            ? { node: { kind: 'mapping', start: event.start, keys: [], nodes: [] }, value: {}, key: undefined }
            : { node: { kind: 'sequence', start: event.start, items: [] }, value: [] };
        if (!attach(frame.value, frame.node)) return undefined;
        stack.push(frame);
        break;
      }
      case EVENT_ID.SCALAR: {
        if (event.tagStart !== -1 || event.anchorStart !== -1) return undefined;
        const value = scalarValue(event, source);
        if (value === declined || !attach(value, event)) return undefined;
        break;
      }
      case EVENT_ID.ALIAS:
        return undefined;
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (frame && 'key' in frame && frame.key) return undefined;
        break;
      }
    }
  }
  if (!root || !('kind' in root.node) || root.node.kind !== 'mapping') return undefined;
  return { value: root.value as Record<string, unknown>, root: root.node };
}

const declined = Symbol('declined');

/** The value of a scalar as the `yaml` library's core schema resolves it. */
function scalarValue(event: ScalarEvent, source: string): unknown {
  if (event.style <= SCALAR_STYLE.DOUBLE_QUOTED && foldsDifferently(event, source)) return declined;
  const text = getScalarValue(source, event);
  if (event.style !== SCALAR_STYLE.PLAIN) return text;
  if (text !== '' && !mayResolveToNonString.test(text)) return text;
  return resolvePlainScalar(text);
}

/**
 * Whether a multi-line plain or quoted scalar folds in a way the two libraries are known to read differently: an
 * escaped line break (`\` at the end of a line) or a blank line inside it.
 */
function foldsDifferently(event: ScalarEvent, source: string): boolean {
  if (!spansLines(event, source)) return false;
  const raw = source.slice(event.valueStart, event.valueEnd);
  return /\n[ \t]*\r?\n/.test(raw) || (event.style === SCALAR_STYLE.DOUBLE_QUOTED && /\\\r?\n/.test(raw));
}

function spansLines(event: ScalarEvent, source: string): boolean {
  if (event.valueStart < 0) return false;
  const newline = source.indexOf('\n', event.valueStart);
  return newline !== -1 && newline < event.valueEnd;
}

/** A mapping key as text, or `undefined` when it is not a string the fast path can take. */
function keyText(event: ScalarEvent, source: string): string | undefined {
  if (event.valueStart < 0 || event.valueEnd - event.valueStart > maxKeyLength) return undefined;
  // A multi-line key is an error for the `yaml` library in most places; let it decide.
  if (spansLines(event, source)) return undefined;
  const value = scalarValue(event, source);
  // `<<` is a merge key (and the locator follows merges for any key spelt so).
  if (typeof value !== 'string' || value === '<<') return undefined;
  return value;
}

let plainScalarTags: { tags: ScalarTag[]; options: Document['options'] } | undefined;

/**
 * Plain scalars already resolved: a pipeline repeats the same few (`name`, `timeout`, `10m`, `true`) thousands of
 * times, and each would otherwise be tested against every tag. Only primitives are kept, so sharing is safe.
 */
const resolvedPlainScalars = new Map<string, unknown>();
const maxResolvedPlainScalars = 10_000;

/** Resolves a plain scalar with the tags of the document `readYaml` parses (`yaml` core schema, merge on). */
function resolvePlainScalar(text: string): unknown {
  if (resolvedPlainScalars.has(text)) return resolvedPlainScalars.get(text);
  const value = resolvePlainScalarUncached(text);
  if (value === null || typeof value !== 'object') {
    if (resolvedPlainScalars.size >= maxResolvedPlainScalars) resolvedPlainScalars.clear();
    resolvedPlainScalars.set(text, value);
  }
  return value;
}

function resolvePlainScalarUncached(text: string): unknown {
  if (!plainScalarTags) {
    const document = new Document(null, yamlParseOptions);
    const tags = document.schema.tags.filter((tag): tag is ScalarTag => tag.default === true && 'test' in tag);
    plainScalarTags = { tags, options: document.options };
  }
  const tag = plainScalarTags.tags.find((candidate) => candidate.test?.test(text));
  if (!tag) return text;
  let failed = false;
  const resolved = tag.resolve(text, () => (failed = true), plainScalarTags.options);
  if (failed) return declined;
  return isScalar(resolved) ? resolved.value : resolved;
}

/** Where a node starts and ends in the source, as the `yaml` library records it; `undefined` when unknown here. */
function scalarRange(node: ScalarNode, source: string): [number, number] | undefined {
  if (node.valueStart < 0) return undefined;
  if (node.style === SCALAR_STYLE.PLAIN) return [node.valueStart, node.valueEnd];
  const quote = node.style === SCALAR_STYLE.SINGLE_QUOTED ? "'" : node.style === SCALAR_STYLE.DOUBLE_QUOTED ? '"' : '';
  if (quote === '' || source[node.valueStart - 1] !== quote || source[node.valueEnd] !== quote) return undefined;
  return [node.valueStart - 1, node.valueEnd + 1];
}

/** Where `key` is among a mapping's entries, or -1. */
function entryIndex(mapping: MappingNode, key: string): number {
  if (mapping.keys.length <= 16) return mapping.keys.indexOf(key);
  if (!mapping.index) {
    mapping.index = new Map();
    mapping.keys.forEach((text, index) => mapping.index?.set(text, index));
  }
  return mapping.index.get(key) ?? -1;
}

function isScalarNode(node: SourceNode): node is ScalarNode {
  return !('kind' in node);
}

/**
 * The locator of `readYaml`'s (see `createLocator` there), answering from the events where they hold what is
 * needed and from the `yaml` library otherwise.
 */
function createFastLocator(root: MappingNode, source: string): SourceLocator {
  let exact: SourceLocator | undefined;
  let lineCounter: LineCounter | undefined;
  const position = (offset: number): { line: number; column: number } => {
    if (!lineCounter) {
      // The `yaml` library starts a line at the beginning of the text and after every line feed.
      lineCounter = new LineCounter();
      lineCounter.addNewLine(0);
      for (let at = source.indexOf('\n'); at !== -1; at = source.indexOf('\n', at + 1)) lineCounter.addNewLine(at + 1);
    }
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, source.length)));
    return { line, column: col };
  };

  return {
    locate(path, options = {}) {
      const fallback = (): { line: number; column: number } => {
        exact ??= readYamlLocator(source);
        return exact.locate(path, options);
      };
      let node: SourceNode = root;
      let key: ScalarNode | undefined;
      let complete = true;
      for (const segment of path) {
        key = undefined;
        if (isScalarNode(node)) {
          complete = false;
          break;
        }
        if (node.kind === 'mapping') {
          const entry = entryIndex(node, String(segment));
          if (entry < 0) {
            complete = false;
            break;
          }
          key = node.nodes[2 * entry] as ScalarNode;
          node = node.nodes[2 * entry + 1] as SourceNode;
        } else if (typeof segment === 'number' && segment < node.items.length) {
          node = node.items[segment] as SourceNode;
        } else {
          complete = false;
          break;
        }
      }
      if (complete && options.atKey && key) {
        const range = scalarRange(key, source);
        return range ? position(range[0]) : fallback();
      }
      if (!isScalarNode(node)) {
        // A collection's end is not in the events, and a needle is searched for up to it.
        return complete && options.needle !== undefined ? fallback() : position(node.start);
      }
      const range = scalarRange(node, source);
      if (!range) return fallback();
      if (complete && options.needle !== undefined) {
        const found = source.slice(range[0], range[1]).indexOf(options.needle);
        if (found >= 0) return position(range[0] + found);
      }
      if (complete && options.offset !== undefined) {
        return position(range[0] + (node.style === SCALAR_STYLE.PLAIN ? 0 : 1) + options.offset);
      }
      return position(range[0]);
    },
  };
}
