/**
 * Reading a failing step's output from the log store for an investigation: streamed batch by batch (the store
 * bounds each batch), so a 100 MB log costs memory for one batch, not the whole log (docs/investigations.md).
 */
import type { QuotedLine } from '../../investigate/incident';
import type { LogStore } from '../log-store';

/** Which lines: one step of one job, optionally one attempt. */
export interface StepSelector {
  job: string;
  step?: string;
  attempt?: number;
}

/** What one pass over a step's output found. */
export interface LogScan {
  /** The last `tailLines` lines of the last attempt seen. */
  tail: QuotedLine[];
  /** Lines matching `matches`, at most `maxMatches` (the latest kept). */
  matched: QuotedLine[];
  linesSearched: number;
  /** The highest attempt number seen. */
  lastAttempt: number;
}

/** Streams a run's records once, keeping the selected step's tail and the lines `matches` accepts. */
export async function scanStepLog(
  logs: LogStore,
  runId: string,
  selector: StepSelector,
  options: { matches?: (line: string) => boolean; tailLines?: number; maxMatches?: number; onBatch?: () => void } = {},
): Promise<LogScan> {
  const tailLines = options.tailLines ?? 30;
  const maxMatches = options.maxMatches ?? 5;
  const scan: LogScan = { tail: [], matched: [], linesSearched: 0, lastAttempt: 0 };
  let offsets: Map<string, number> | undefined;
  for (;;) {
    const batch = await logs.read(runId, offsets);
    offsets = batch.offsets;
    options.onBatch?.();
    for (const record of batch.records) {
      if (record.job !== selector.job) continue;
      if (selector.step !== undefined && record.step !== selector.step) continue;
      if (selector.attempt !== undefined && record.attempt !== selector.attempt) continue;
      scan.linesSearched += 1;
      if (record.attempt > scan.lastAttempt) {
        scan.lastAttempt = record.attempt;
        scan.tail = [];
      }
      if (record.attempt === scan.lastAttempt) {
        scan.tail.push(record);
        if (scan.tail.length > tailLines) scan.tail.shift();
      }
      if (options.matches?.(record.line)) {
        scan.matched.push(record);
        if (scan.matched.length > maxMatches) scan.matched.shift();
      }
    }
    if (!batch.more) return scan;
  }
}
