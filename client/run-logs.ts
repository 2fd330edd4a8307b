/**
 * `conveyor logs`: a run's output from the log store, optionally followed until the run ends — across a restart of
 * the Temporal server too, which only tells the follower when the run has ended (docs/runs.md).
 */
import type { LogRecord } from '../activities/log-store';
import { loadConfig } from '../workers/config';
import { createLogStoreFromConfig } from '../workers/stores';
import { resolveLogSelector } from './log-selector';
import { ReconnectingClient } from './reconnecting-client';
import { tickUntilClosed } from './follow-loop';
import { fetchRunInput } from './runs';

/** Flags of `conveyor logs`. */
export interface LogsFlags {
  follow?: boolean;
  stream?: 'stdout' | 'stderr';
}

/** Prints a run's logs (`selector`: JOB or JOB/STEP), following them with `flags.follow`. */
export async function printRunLogs(runId: string, selector: string | undefined, flags: LogsFlags): Promise<void> {
  const config = loadConfig();
  const logs = createLogStoreFromConfig(config);
  const temporal = await ReconnectingClient.connect(config, {
    notice: (text) => process.stderr.write(`conveyor: ${text}\n`),
  });
  try {
    const input = await temporal.call((client) => fetchRunInput(client, runId));
    const selection = resolveLogSelector(runId, input.pipeline, selector);
    const matches = (record: LogRecord) =>
      (!selection.jobs || selection.jobs.has(record.job)) &&
      (!selection.step || record.step === selection.step) &&
      (!flags.stream || record.stream === flags.stream);
    const single = selection.jobs?.size === 1;
    const prefix = (record: LogRecord) =>
      selection.step && single ? '' : single ? `[${record.step}] ` : `[${record.job}/${record.step}] `;
    let offsets = new Map<string, number>();
    /** Prints everything added since the last call, in one write per batch. */
    const printNew = async () => {
      for (;;) {
        const read = await logs.read(runId, offsets);
        offsets = read.offsets;
        let text = '';
        for (const record of read.records) if (matches(record)) text += `${prefix(record)}${record.line}\n`;
        if (text) process.stdout.write(text);
        if (!read.more) return;
      }
    };
    if (!flags.follow) {
      await printNew();
      return;
    }
    await tickUntilClosed(temporal, runId, printNew, () => 200);
    // What was written between the last read and the end.
    await printNew();
  } finally {
    await temporal.close();
  }
}
