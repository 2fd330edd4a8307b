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

type Events = ReturnType<typeof parseEvents>;

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
  return { value: composed.value, errors: [], locator: createFastLocator(events, composed.rootEvent, source) };
}

/**
 * Builds the plain value from the events. Nothing else is allocated per node: the locator works on the events
 * themselves (a large pipeline has tens of thousands of nodes, and their bookkeeping was most of the garbage a
 * parse made, see docs/benchmarks.md).
 */
function compose(events: Events, source: string): { value: Record<string, unknown>; rootEvent: number } | undefined {
  // The open collections, innermost last, and for an open mapping the key waiting for its value.
  const open: Array<Record<string, unknown> | unknown[]> = [];
  const pendingKeys: Array<string | undefined> = [];
  let documents = 0;
  let rootEvent = -1;
  let root: unknown;

  /** Places a value in the open collection; false when the document needs `readYaml`. */
  const attach = (value: unknown, event: Events[number], index: number): boolean => {
    const depth = open.length;
    if (depth === 0) {
      if (rootEvent !== -1) return false;
      rootEvent = index;
      root = value;
      return true;
    }
    const collection = open[depth - 1] as Record<string, unknown> | unknown[];
    if (Array.isArray(collection)) {
      collection.push(value);
      return true;
    }
    const key = pendingKeys[depth - 1];
    if (key === undefined) {
      const text = event.type === EVENT_ID.SCALAR ? keyText(event, source) : undefined;
      if (text === undefined || Object.prototype.hasOwnProperty.call(collection, text)) return false;
      pendingKeys[depth - 1] = text;
      return true;
    }
    pendingKeys[depth - 1] = undefined;
    // As the `yaml` library does: a key the object already answers (`__proto__`, `constructor`) becomes an own
    // property instead of an assignment, so nothing reaches the prototype.
    if (key in collection)
      Object.defineProperty(collection, key, { value, writable: true, enumerable: true, configurable: true });
    else collection[key] = value;
    return true;
  };

  for (let index = 0; index < events.length; index++) {
    const event = events[index] as Events[number];
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        documents++;
        if (documents > 1 || event.directives.length > 0) return undefined;
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        if (event.tagStart !== -1 || event.anchorStart !== -1 || open.length >= maxNestingDepth) return undefined;
        const value = event.type === EVENT_ID.MAPPING ? {} : [];
        if (!attach(value, event, index)) return undefined;
        open.push(value);
        pendingKeys.push(undefined);
        break;
      }
      case EVENT_ID.SCALAR: {
        if (event.tagStart !== -1 || event.anchorStart !== -1) return undefined;
        const value = scalarValue(event, source);
        if (value === declined || !attach(value, event, index)) return undefined;
        break;
      }
      case EVENT_ID.ALIAS:
        return undefined;
      case EVENT_ID.POP: {
        open.pop();
        if (pendingKeys.pop() !== undefined) return undefined;
        break;
      }
    }
  }
  if (rootEvent === -1 || events[rootEvent]?.type !== EVENT_ID.MAPPING) return undefined;
  return { value: root as Record<string, unknown>, rootEvent };
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

/** Where a scalar starts and ends in the source, as the `yaml` library records it; `undefined` when unknown here. */
function scalarRange(node: ScalarEvent, source: string): [number, number] | undefined {
  if (node.valueStart < 0) return undefined;
  if (node.style === SCALAR_STYLE.PLAIN) return [node.valueStart, node.valueEnd];
  const quote = node.style === SCALAR_STYLE.SINGLE_QUOTED ? "'" : node.style === SCALAR_STYLE.DOUBLE_QUOTED ? '"' : '';
  if (quote === '' || source[node.valueStart - 1] !== quote || source[node.valueEnd] !== quote) return undefined;
  return [node.valueStart - 1, node.valueEnd + 1];
}

/**
 * Walks the events of a composed document: where each collection's events end, and a mapping's entries by key.
 * Built on the first location asked for, which most parses never need.
 */
class EventTree {
  /** For the event of a collection, the index of its `POP` event. */
  private readonly ends: Int32Array;
  /** Entry positions (value event indexes) by key, for large mappings looked into. */
  private readonly indexes = new Map<number, Map<string, number>>();

  constructor(
    private readonly events: Events,
    private readonly source: string,
  ) {
    this.ends = new Int32Array(events.length);
    const open: number[] = [];
    events.forEach((event, index) => {
      if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) open.push(index);
      else if (event.type === EVENT_ID.POP) {
        const start = open.pop();
        if (start !== undefined) this.ends[start] = index;
      }
    });
  }

  /** The index of the event after the node starting at `index`. */
  next(index: number): number {
    const type = this.events[index]?.type;
    return type === EVENT_ID.MAPPING || type === EVENT_ID.SEQUENCE ? (this.ends[index] ?? index) + 1 : index + 1;
  }

  /** The index of the value event of `key` in the mapping starting at `mapping`, or -1. */
  entry(mapping: number, key: string): number {
    const cached = this.indexes.get(mapping);
    if (cached) return cached.get(key) ?? -1;
    const found = new Map<string, number>();
    let count = 0;
    for (let at = mapping + 1; this.events[at]?.type === EVENT_ID.SCALAR; at = this.next(at + 1)) {
      // Keys were checked when the value was composed: every one is a scalar with text.
      const text = keyText(this.events[at] as ScalarEvent, this.source) as string;
      if (!found.has(text)) found.set(text, at + 1);
      count++;
    }
    // Small mappings are cheap to walk again; a large one (`jobs:`) keeps its index for the next lookup.
    if (count > 16) this.indexes.set(mapping, found);
    return found.get(key) ?? -1;
  }

  /** The index of item `position` of the sequence starting at `sequence`, or -1. */
  item(sequence: number, position: number): number {
    let at = sequence + 1;
    for (let passed = 0; passed < position && this.events[at]?.type !== EVENT_ID.POP; passed++) at = this.next(at);
    return this.events[at] === undefined || this.events[at]?.type === EVENT_ID.POP ? -1 : at;
  }
}

/**
 * The locator of `readYaml`'s (see `createLocator` there), answering from the events where they hold what is
 * needed and from the `yaml` library otherwise.
 */
function createFastLocator(events: Events, rootEvent: number, source: string): SourceLocator {
  let exact: SourceLocator | undefined;
  let lineCounter: LineCounter | undefined;
  let tree: EventTree | undefined;
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
      tree ??= new EventTree(events, source);
      let node = events[rootEvent] as Events[number];
      let key: ScalarEvent | undefined;
      let complete = true;
      let at = rootEvent;
      for (const segment of path) {
        key = undefined;
        let found = -1;
        if (node.type === EVENT_ID.MAPPING) {
          found = tree.entry(at, String(segment));
          if (found >= 0) key = events[found - 1] as ScalarEvent;
        } else if (node.type === EVENT_ID.SEQUENCE && typeof segment === 'number') {
          found = tree.item(at, segment);
        }
        if (found < 0) {
          complete = false;
          break;
        }
        at = found;
        node = events[at] as Events[number];
      }
      if (complete && options.atKey && key) {
        const range = scalarRange(key, source);
        return range ? position(range[0]) : fallback();
      }
      if (node.type === EVENT_ID.MAPPING || node.type === EVENT_ID.SEQUENCE) {
        // A collection's end is not in the events, and a needle is searched for up to it.
        return complete && options.needle !== undefined ? fallback() : position(node.start);
      }
      if (node.type !== EVENT_ID.SCALAR) return fallback();
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
