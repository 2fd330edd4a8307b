import type { DiagnosticCode } from './diagnostic-codes';
import type { Diagnostic } from './model';
import { formatPath, type PathSegment } from './path';

/** A diagnostic before it has been placed in the source: the locator adds line and column. */
export interface PendingDiagnostic {
  code: DiagnosticCode;
  /** The problem, without the path prefix (the collector adds it). */
  problem: string;
  path: readonly PathSegment[];
  hint: string;
  /** Point at the key of the mapping entry rather than at its value (for unknown or duplicate keys). */
  atKey?: boolean;
  /** Text to look for inside the node's source, to point at the exact column of, say, `${NAME}`. */
  needle?: string;
  /** Offset of the problem inside the node's scalar text (for expression errors). */
  offset?: number;
}

/** Finds where a path sits in the source. */
export interface SourceLocator {
  locate(
    path: readonly PathSegment[],
    options?: { atKey?: boolean; needle?: string; offset?: number },
  ): {
    line: number;
    column: number;
  };
}

/**
 * Collects errors and warnings, places them in the source, drops exact duplicates (a matrix job reports each
 * problem of its template once, not once per expansion) and sorts them by position.
 */
export class DiagnosticCollector {
  private readonly errorList: Diagnostic[] = [];
  private readonly warningList: Diagnostic[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly locator: SourceLocator) {}

  /** Records an error. */
  error(pending: PendingDiagnostic): void {
    this.add(this.errorList, pending);
  }

  /** Records a warning (does not make the pipeline invalid). */
  warning(pending: PendingDiagnostic): void {
    this.add(this.warningList, pending);
  }

  /** Records an already-located diagnostic (YAML syntax errors come located from the YAML parser). */
  located(diagnostic: Diagnostic): void {
    const key = `${diagnostic.code}|${diagnostic.line}|${diagnostic.column}|${diagnostic.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.errorList.push(diagnostic);
  }

  /** How many errors have been recorded so far. */
  get errorCount(): number {
    return this.errorList.length;
  }

  /** Errors sorted by line, column, then message. */
  errors(): Diagnostic[] {
    return sortDiagnostics(this.errorList);
  }

  /** Warnings sorted by line, column, then message. */
  warnings(): Diagnostic[] {
    return sortDiagnostics(this.warningList);
  }

  private add(list: Diagnostic[], pending: PendingDiagnostic): void {
    const path = formatPath(pending.path);
    const message = path === '' ? pending.problem : `${path}: ${pending.problem}`;
    const key = `${pending.code}|${path}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const { line, column } = this.locator.locate(pending.path, {
      atKey: pending.atKey,
      needle: pending.needle,
      offset: pending.offset,
    });
    list.push({ code: pending.code, message, line, column, path, hint: pending.hint });
  }
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}
