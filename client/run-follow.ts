/**
 * Following a run from the CLI: its steps' output from the log store as it arrives, until the workflow ends.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { LogStore } from '../activities/log-store';
import type { PipelineRunStatus } from '../workflows/pipeline-run-messages';

/** Prints the run's log lines as `[job/step] line` until it finishes; returns its final status. */
export async function followRun(
  handle: WorkflowHandle,
  logs: LogStore,
  runId: string,
  print: (line: string) => void,
  pollMs = 200,
): Promise<PipelineRunStatus> {
  let offsets = new Map<string, number>();
  let finished = false;
  const result = (handle.result() as Promise<PipelineRunStatus>).finally(() => {
    finished = true;
  });
  const drain = async () => {
    const read = await logs.read(runId, offsets);
    offsets = read.offsets;
    for (const record of read.records) print(`[${record.job}/${record.step}] ${record.line}`);
  };
  // Surface a failed workflow at once rather than after the next poll.
  result.catch(() => undefined);
  while (!finished) {
    await drain();
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, pollMs))]);
  }
  await drain();
  return result;
}
