/**
 * Reading a failing step's output from the log store for an investigation: streamed batch by batch (the store
 * bounds each batch) through one `LogScanner` (investigate/log-scan.ts) that applies every check's patterns at
 * once, so a 100 MB log is read once and costs memory for one batch, not the whole log (docs/investigations.md).
 */
import { LogScanner, type LogScanOptions, type LogScanResult, type StepSelector } from '../../investigate/log-scan';
import type { LogStore } from '../log-store';

/** Streams a run's records once through a scanner of `selector`'s lines for `patterns`. */
export async function scanStepLog(
  logs: LogStore,
  runId: string,
  selector: StepSelector,
  options: LogScanOptions & { patterns?: readonly string[]; onBatch?: () => void } = {},
): Promise<LogScanResult> {
  const scanner = new LogScanner(selector, options.patterns ?? [], options);
  let offsets: Map<string, number> | undefined;
  for (;;) {
    const batch = await logs.read(runId, offsets);
    offsets = batch.offsets;
    options.onBatch?.();
    for (const record of batch.records) scanner.add(record);
    if (!batch.more) return scanner.finish();
  }
}
