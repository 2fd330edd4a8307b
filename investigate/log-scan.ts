/**
 * One pass over a failing step's output for every check (docs/investigations.md, "Frame"): the log is fed here
 * line by line as the log store streams it, and the scanner keeps only what the checks need — per pattern a count
 * and its latest few matching lines (with their line numbers), the last lines of the last attempt, and how much
 * was searched. Memory stays bounded by the pattern count and the quote sizes, never by the log's size. Pure: the
 * frame activity streams the store into it, and its result travels in the frame to every check.
 */
import type { QuotedLine } from './incident';

/** A quoted line and where it is: its 1-based line number within its attempt's output. */
export interface ScannedLine extends QuotedLine {
  lineNumber: number;
}

/** What one pattern matched. */
export interface PatternMatches {
  /** The pattern's source (a case-insensitive regular expression), as a cause declares it. */
  pattern: string;
  /** How many lines matched it. */
  count: number;
  /** The latest matching lines (at most `maxMatches`), in log order. */
  lines: ScannedLine[];
}

/** The result of one pass: plain JSON, small whatever the log's size. */
export interface LogScanResult {
  /** Lines of the selected step read (every attempt). */
  linesSearched: number;
  /** Characters of output read. */
  charsSearched: number;
  /** The highest attempt seen. */
  lastAttempt: number;
  /** The last `tailLines` lines of the last attempt, in log order. */
  tail: ScannedLine[];
  /** Every pattern that matched at least once (patterns that matched nothing are left out: count 0). */
  patterns: PatternMatches[];
}

/** Which lines a scan reads: one job's, optionally one step's. */
export interface StepSelector {
  job: string;
  step?: string;
}

/** Bounds of a scan. */
export interface LogScanOptions {
  /** Lines of the last attempt kept for the excerpt (default 30). */
  tailLines?: number;
  /** Latest matching lines kept per pattern (default 5). */
  maxMatches?: number;
  /** Longer quoted lines are cut to this many characters (default 1,000); matching sees the whole line. */
  maxLineChars?: number;
}

const defaults = { tailLines: 30, maxMatches: 5, maxLineChars: 1000 };

/** A line cut to `max` characters, saying how much was cut. */
function cut(line: string, max: number): string {
  return line.length <= max ? line : `${line.slice(0, max)}… (${line.length - max} more characters)`;
}

/** Log order: attempt, then line number. */
function before(a: ScannedLine, b: ScannedLine): boolean {
  return a.attempt < b.attempt || (a.attempt === b.attempt && a.lineNumber < b.lineNumber);
}

/** Inserts `line` into `kept` (in log order) and drops the earliest beyond `max`. */
function keepLatest(kept: ScannedLine[], line: ScannedLine, max: number): void {
  let index = kept.length;
  while (index > 0 && before(line, kept[index - 1]!)) index -= 1;
  kept.splice(index, 0, line);
  if (kept.length > max) kept.shift();
}

/** Streams records of one step through every pattern at once. */
export class LogScanner {
  private readonly options: Required<LogScanOptions>;
  private readonly compiled: { source: string; regex: RegExp; matches: PatternMatches }[];
  /** One regular expression for all patterns: most lines match none, so most lines cost one test. */
  private readonly any: RegExp | undefined;
  /** Lines seen per step attempt (`step\u0000attempt`): a job-wide scan numbers each step's lines apart. */
  private readonly lineNumbers = new Map<string, number>();
  private readonly result: LogScanResult = {
    linesSearched: 0,
    charsSearched: 0,
    lastAttempt: 0,
    tail: [],
    patterns: [],
  };

  constructor(
    private readonly selector: StepSelector,
    patterns: readonly string[],
    options: LogScanOptions = {},
  ) {
    this.options = { ...defaults, ...options };
    const unique = [...new Set(patterns)];
    this.compiled = unique.map((source) => ({
      source,
      regex: new RegExp(source, 'i'),
      matches: { pattern: source, count: 0, lines: [] },
    }));
    this.any = unique.length > 0 ? new RegExp(unique.map((source) => `(?:${source})`).join('|'), 'i') : undefined;
  }

  /** Takes one record of the run's log; records of other jobs and steps are skipped. */
  add(record: QuotedLine): void {
    if (record.job !== this.selector.job) return;
    if (this.selector.step !== undefined && record.step !== this.selector.step) return;
    const { result, options } = this;
    // Line numbers count per attempt, in the order the store returns an attempt's lines (its file order).
    const attemptKey = `${record.step}\u0000${record.attempt}`;
    const lineNumber = (this.lineNumbers.get(attemptKey) ?? 0) + 1;
    this.lineNumbers.set(attemptKey, lineNumber);
    result.linesSearched += 1;
    result.charsSearched += record.line.length;
    let quoted: ScannedLine | undefined;
    const quote = () => (quoted ??= { ...record, line: cut(record.line, options.maxLineChars), lineNumber });
    if (record.attempt > result.lastAttempt) {
      result.lastAttempt = record.attempt;
      result.tail = [];
    }
    if (record.attempt === result.lastAttempt) {
      result.tail.push(quote());
      if (result.tail.length > options.tailLines) result.tail.shift();
    }
    if (!this.any?.test(record.line)) return;
    for (const pattern of this.compiled) {
      if (!pattern.regex.test(record.line)) continue;
      pattern.matches.count += 1;
      keepLatest(pattern.matches.lines, quote(), options.maxMatches);
    }
  }

  /** What the pass found so far. */
  finish(): LogScanResult {
    return {
      ...this.result,
      patterns: this.compiled.filter((pattern) => pattern.matches.count > 0).map((pattern) => pattern.matches),
    };
  }
}

/**
 * The latest lines matching any of `patterns` (at most `max`, in log order, each once): what a cause's check quotes.
 * Exact from per-pattern results, since a line among the latest `max` matching any pattern is among the latest
 * `max` of each pattern it matches.
 */
export function matchesFor(
  scan: Pick<LogScanResult, 'patterns'>,
  patterns: readonly string[],
  max = defaults.maxMatches,
): ScannedLine[] {
  const wanted = new Set(patterns);
  const kept: ScannedLine[] = [];
  const seen = new Set<string>();
  for (const entry of scan.patterns) {
    if (!wanted.has(entry.pattern)) continue;
    for (const line of entry.lines) {
      const key = `${line.attempt}:${line.lineNumber}`;
      if (seen.has(key)) continue;
      seen.add(key);
      keepLatest(kept, line, max);
    }
  }
  return kept;
}
