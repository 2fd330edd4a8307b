/**
 * The CLI's view of a run while it runs: step output as it arrives (`[job/step] line`), and the jobs' states —
 * updated in place under the output on a terminal, as one plain line per change otherwise. At the end, every
 * job's outcome and the failing step's last lines.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { LogStore } from '../activities/log-store';
import type { JobState, PipelineRunStatus } from '../workflows/pipeline-run-messages';
import { fetchRunStatus, runOutcome } from './runs';

/** Where the view writes and how. */
export interface RunViewOutput {
  write(text: string): void;
  /** Redraw job states in place (a terminal) instead of printing a line per change. */
  live: boolean;
  /** Terminal width, for truncating live lines. */
  columns?: number;
}

const icons: Record<JobState['status'], string> = {
  pending: '·',
  running: '▶',
  retrying: '↻',
  success: '✓',
  failed: '✗',
  cancelled: '⊘',
  skipped: '−',
};

/** Follows a run until it ends and returns its final status. */
export async function watchRun(
  client: Client,
  handle: WorkflowHandle,
  logs: LogStore,
  runId: string,
  output: RunViewOutput,
  options: { pollMs?: number; statusEveryMs?: number } = {},
): Promise<PipelineRunStatus> {
  const pollMs = options.pollMs ?? 200;
  const statusEveryMs = options.statusEveryMs ?? 600;
  let offsets = new Map<string, number>();
  let footerLines = 0;
  let lastStatus: PipelineRunStatus | undefined;
  const printed = new Map<string, string>();
  let finished = false;
  const result = runOutcome(handle).finally(() => {
    finished = true;
  });
  result.catch(() => undefined);

  const clearFooter = () => {
    if (footerLines > 0) output.write(`\x1b[${footerLines}A\x1b[J`);
    footerLines = 0;
  };
  const drawFooter = () => {
    if (!output.live || !lastStatus) return;
    const lines = footer(lastStatus, output.columns ?? 100);
    output.write(`${lines.join('\n')}\n`);
    footerLines = lines.length;
  };
  const reportChanges = (status: PipelineRunStatus) => {
    for (const [name, job] of Object.entries(status.jobs)) {
      // A change is a new state, step or attempt; a growing duration alone is not worth a line.
      const current = job.steps.find((step) => step.status === 'running' || step.status === 'retrying');
      const key = `${job.status}|${current?.name ?? ''}|${current?.attempts ?? 0}`;
      if (printed.get(name) === key) continue;
      printed.set(name, key);
      if (!output.live && job.status !== 'pending') output.write(`${describeJob(name, job)}\n`);
    }
  };

  let lastStatusAt = 0;
  while (!finished) {
    const read = await logs.read(runId, offsets);
    offsets = read.offsets;
    let status: PipelineRunStatus | undefined;
    if (Date.now() - lastStatusAt >= statusEveryMs) {
      lastStatusAt = Date.now();
      status = await fetchRunStatus(client, runId).catch(() => undefined);
    }
    if (read.records.length > 0 || status) {
      clearFooter();
      for (const record of read.records) output.write(`[${record.job}/${record.step}] ${record.line}\n`);
      if (status) {
        lastStatus = status;
        reportChanges(status);
      }
      drawFooter();
    }
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, pollMs))]);
  }
  const final = await result;
  const read = await logs.read(runId, offsets);
  clearFooter();
  for (const record of read.records) output.write(`[${record.job}/${record.step}] ${record.line}\n`);
  output.write(finalReport(final));
  return final;
}

/** One line per job: icon, name, state, duration, and the step it is in. */
export function describeJob(name: string, job: JobState, now = Date.now()): string {
  const started = job.startedAt ? Date.parse(job.startedAt) : undefined;
  const ended = job.finishedAt ? Date.parse(job.finishedAt) : now;
  const duration = started !== undefined && !job.reused ? ` ${((ended - started) / 1000).toFixed(1)}s` : '';
  const current = job.steps.find((step) => step.status === 'running' || step.status === 'retrying');
  const detail =
    job.status === 'running' || job.status === 'retrying'
      ? current
        ? ` (${current.name}${current.attempts > 1 ? `, attempt ${current.attempts}` : ''})`
        : ''
      : job.reason
        ? ` (${job.reason}${job.exitCode !== undefined ? `, exit ${job.exitCode}` : ''})`
        : job.reused
          ? ' (reused)'
          : '';
  return `${icons[job.status]} ${name} ${job.status}${duration}${detail}`;
}

/** The in-place block under the output: all jobs while they fit, else counts plus the running jobs. */
function footer(status: PipelineRunStatus, columns: number): string[] {
  const entries = Object.entries(status.jobs);
  const now = Date.now();
  const fit = (line: string) => (line.length > columns - 1 ? `${line.slice(0, columns - 2)}…` : line);
  if (entries.length <= 12) return entries.map(([name, job]) => fit(describeJob(name, job, now)));
  const counts = new Map<string, number>();
  for (const [, job] of entries) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  const summary = [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
  const active = entries.filter(([, job]) => job.status === 'running' || job.status === 'retrying').slice(0, 10);
  return [fit(`jobs: ${summary}`), ...active.map(([name, job]) => fit(describeJob(name, job, now)))];
}

/** Every job's outcome, then the last lines of each failed step. */
export function finalReport(status: PipelineRunStatus): string {
  const lines = ['', ...Object.entries(status.jobs).map(([name, job]) => describeJob(name, job))];
  for (const [name, job] of Object.entries(status.jobs)) {
    const failed = job.steps.find((step) => step.name === job.failedStep);
    if (job.status !== 'failed' || !failed?.logTail?.length) continue;
    lines.push('', `last lines of ${name}/${failed.name}:`, ...failed.logTail.map((line) => `  ${line}`));
  }
  return `${lines.join('\n')}\n`;
}
