/**
 * The CLI's view of a run while it runs: step output as it arrives (`[job/step] line`), and the jobs' states —
 * updated in place under the output on a terminal, as one plain line per change otherwise. At the end, every
 * job's outcome and the failing step's last lines.
 */
import type { LogStore } from '../activities/log-store';
import type { JobState, PipelineRunStatus } from '../workflows/pipeline-run-messages';

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

/** Where the view gets the run's state. */
export interface RunViewSource {
  runId: string;
  logs: LogStore;
  /** The run's live status; may fail (the server or the worker away), the view then keeps the last one. */
  status: () => Promise<PipelineRunStatus>;
}

/**
 * The view of one run while it runs. `poll()` prints the output added since the last poll and the jobs' changes;
 * the caller polls until the run ends, then calls `finish()`. `hold()` keeps everything back while a question is
 * asked (Ctrl-C), `resume()` prints what arrived meanwhile.
 */
export class RunView {
  private offsets = new Map<string, number>();
  private footerLines = 0;
  private lastStatus?: PipelineRunStatus;
  private readonly printed = new Map<string, string>();
  private statusInFlight = false;
  private lastStatusAt = 0;
  private freshStatus?: PipelineRunStatus;
  private held = false;
  private heldText = '';
  private heldNotices = '';
  /** Whether any step output has been printed (until then the caller may poll faster). */
  sawOutput = false;

  constructor(
    private readonly source: RunViewSource,
    private readonly output: RunViewOutput,
    private readonly options: { statusEveryMs?: number } = {},
  ) {}

  /** Prints new output lines and job state changes. */
  async poll(): Promise<void> {
    this.refreshStatusInBackground();
    const text = await this.readLogs();
    const status = this.freshStatus;
    this.freshStatus = undefined;
    if (!text && !status) return;
    this.clearFooter();
    let block = text;
    if (status) {
      this.lastStatus = status;
      block += this.changes(status);
    }
    this.write(block);
    this.drawFooter();
  }

  /** Prints a line from the CLI itself on stderr without breaking the in-place footer. */
  notice(text: string): void {
    if (this.held) {
      this.heldNotices += `${text}\n`;
      return;
    }
    this.clearFooter();
    process.stderr.write(`${text}\n`);
    this.drawFooter();
  }

  /** Erases the footer and keeps all output back until `resume()`. */
  hold(): void {
    this.clearFooter();
    this.held = true;
  }

  /** Prints what was kept back and goes on as before. */
  resume(): void {
    this.held = false;
    const [text, notices] = [this.heldText, this.heldNotices];
    this.heldText = '';
    this.heldNotices = '';
    if (text) this.output.write(text);
    if (notices) process.stderr.write(notices);
    this.drawFooter();
  }

  /** Prints the output that is left, then every job's outcome and the failing steps' last lines. */
  async finish(final: PipelineRunStatus): Promise<void> {
    const text = await this.readLogs();
    this.clearFooter();
    this.write(text + finalReport(final));
  }

  private write(text: string): void {
    if (!text) return;
    if (this.held) this.heldText += text;
    else this.output.write(text);
  }

  /** Everything added to the run's logs since the last read, as `[job/step] line` lines, in one string. */
  private async readLogs(): Promise<string> {
    let text = '';
    for (;;) {
      const read = await this.source.logs.read(this.source.runId, this.offsets);
      this.offsets = read.offsets;
      for (const record of read.records) text += `[${record.job}/${record.step}] ${record.line}\n`;
      if (!read.more) break;
    }
    if (text) this.sawOutput = true;
    return text;
  }

  /**
   * Fetches the status every `statusEveryMs` without making the output wait for it: a status query waits for the
   * worker, which may be restarting.
   */
  private refreshStatusInBackground(): void {
    if (this.statusInFlight || Date.now() - this.lastStatusAt < (this.options.statusEveryMs ?? 600)) return;
    this.statusInFlight = true;
    this.lastStatusAt = Date.now();
    this.source
      .status()
      .then((status) => {
        this.freshStatus = status;
      })
      .catch(() => undefined)
      .finally(() => {
        this.statusInFlight = false;
      });
  }

  /** One plain line per job change (when not redrawing in place); a growing duration alone is not a change. */
  private changes(status: PipelineRunStatus): string {
    let text = '';
    for (const [name, job] of Object.entries(status.jobs)) {
      const current = job.steps.find((step) => step.status === 'running' || step.status === 'retrying');
      const key = `${job.status}|${current?.name ?? ''}|${current?.attempts ?? 0}`;
      if (this.printed.get(name) === key) continue;
      this.printed.set(name, key);
      if (!this.output.live && job.status !== 'pending') text += `${describeJob(name, job)}\n`;
    }
    return text;
  }

  private clearFooter(): void {
    if (this.footerLines > 0) this.output.write(`\x1b[${this.footerLines}A\x1b[J`);
    this.footerLines = 0;
  }

  private drawFooter(): void {
    if (!this.output.live || !this.lastStatus || this.held) return;
    const lines = footer(this.lastStatus, this.output.columns ?? 100);
    this.output.write(`${lines.join('\n')}\n`);
    this.footerLines = lines.length;
  }
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
