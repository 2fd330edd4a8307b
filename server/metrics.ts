/**
 * `/metrics` in Prometheus' text format (docs/control-plane.md). The server holds no state of its own, so every
 * figure comes from Temporal: run counts from visibility, job and step durations from the runs that finished while
 * the server ran, queue depth from the task queues. A background refresh (default every 10 s) collects them, so a
 * scrape only formats numbers already in memory.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConveyorConfig } from '../workers/config';
import type { PipelineRunStatus } from '../workflows/pipeline-run-messages';
import { fetchRunStatus } from '../client/runs';
import { withDeadline } from './deadline';

/** One more set of figures refreshed with the others (e.g. deployments' approvals and rollbacks). */
export type MetricsSource = (client: Client) => Promise<void>;

const durationBuckets = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const outcomes = ['success', 'failed', 'cancelled'] as const;

/** The server's metrics registry and the refresh that fills it. */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly sources: MetricsSource[] = [];
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  /** Runs that closed at or after this instant have not all been observed yet. */
  private watermark = new Date();
  private readonly seen = new Map<string, number>();
  private rendered?: { at: number; text: Promise<string> };

  readonly runsStarted = new Counter({
    name: 'conveyor_runs_started_total',
    help: 'Pipeline runs started (every run Temporal still holds).',
    registers: [this.registry],
  });
  readonly runsFinished = new Counter({
    name: 'conveyor_runs_finished_total',
    help: 'Pipeline runs finished, by outcome (success, failed, cancelled).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly runsRunning = new Gauge({
    name: 'conveyor_runs_running',
    help: 'Pipeline runs running now.',
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'conveyor_job_duration_seconds',
    help: 'Duration of finished jobs (observed since the server started), by pipeline and outcome.',
    labelNames: ['pipeline', 'outcome'],
    buckets: durationBuckets,
    registers: [this.registry],
  });
  readonly stepDuration = new Histogram({
    name: 'conveyor_step_duration_seconds',
    help: 'Duration of finished steps (observed since the server started), by pipeline and outcome.',
    labelNames: ['pipeline', 'outcome'],
    buckets: durationBuckets,
    registers: [this.registry],
  });
  readonly queueBacklog = new Gauge({
    name: 'conveyor_task_queue_backlog',
    help: 'Tasks waiting for a worker (approximate), by task queue and type (workflow, activity).',
    labelNames: ['task_queue', 'type'],
    registers: [this.registry],
  });
  readonly queuePollers = new Gauge({
    name: 'conveyor_task_queue_pollers',
    help: 'Workers polling each task queue.',
    labelNames: ['task_queue', 'type'],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'conveyor_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly refreshErrors = new Counter({
    name: 'conveyor_metrics_refresh_errors_total',
    help: 'Refreshes of these metrics that failed (Temporal unreachable, …).',
    registers: [this.registry],
  });
  readonly lastRefresh = new Gauge({
    name: 'conveyor_metrics_last_refresh_timestamp_seconds',
    help: 'When these metrics were last refreshed from Temporal (Unix time).',
    registers: [this.registry],
  });

  constructor(
    private readonly client: Client,
    private readonly config: ConveyorConfig,
  ) {}

  /** Adds figures refreshed with the others. */
  addSource(source: MetricsSource): void {
    this.sources.push(source);
  }

  /** Refreshes now and then every `intervalMs` until {@link stop}. */
  start(intervalMs = 10_000): void {
    const tick = () => {
      void this.refresh().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One refresh (concurrent callers share it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.collect()
      .then(
        () => this.lastRefresh.set(Date.now() / 1000),
        () => this.refreshErrors.inc(),
      )
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /**
   * The metrics as Prometheus text, rendered at most once per `maxAgeMs` (default 1 s): rendering runs every
   * collector (process figures read /proc), and the figures from Temporal change only every refresh anyway.
   */
  text(maxAgeMs = 1000): Promise<string> {
    const now = performance.now();
    if (!this.rendered || now - this.rendered.at > maxAgeMs) {
      const text = this.registry.metrics();
      this.rendered = { at: now, text };
      // A failed render is not kept.
      text.catch(() => {
        if (this.rendered?.text === text) this.rendered = undefined;
      });
    }
    return this.rendered.text;
  }

  private async collect(): Promise<void> {
    const results = await Promise.allSettled([
      this.countRuns(),
      this.observeFinishedRuns(),
      this.measureQueues(),
      ...this.sources.map((source) => source(this.client)),
    ]);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private async countRuns(): Promise<void> {
    const base = `WorkflowType = 'pipelineRun'`;
    const [started, running, ...finished] = await Promise.all([
      this.client.workflow.count(base),
      this.client.workflow.count(`${base} AND ExecutionStatus = 'Running'`),
      ...outcomes.map((outcome) => this.client.workflow.count(`${base} AND ConveyorStatus = '${outcome}'`)),
    ]);
    // Counters hold totals read from Temporal: reset and set in one synchronous step, so no scrape sees half.
    this.runsStarted.reset();
    this.runsStarted.inc(started.count);
    this.runsRunning.set(running.count);
    this.runsFinished.reset();
    outcomes.forEach((outcome, index) => this.runsFinished.inc({ outcome }, finished[index]!.count));
  }

  /** Observes the job and step durations of runs that closed since the last refresh. */
  private async observeFinishedRuns(): Promise<void> {
    const since = this.watermark;
    const query =
      `WorkflowType = 'pipelineRun' AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Canceled' ` +
      `AND CloseTime >= '${since.toISOString()}'`;
    let newest = since.getTime();
    let listed = 0;
    for await (const execution of this.client.workflow.list({ query })) {
      if (++listed > 1000) break;
      const closed = execution.closeTime?.getTime() ?? 0;
      if (this.seen.has(execution.workflowId)) continue;
      const status = await withDeadline(fetchRunStatus(this.client, execution.workflowId), 5000).catch(() => undefined);
      this.seen.set(execution.workflowId, closed);
      if (status) this.observeRun(status);
      newest = Math.max(newest, closed);
    }
    this.watermark = new Date(newest);
    for (const [runId, closed] of this.seen) if (closed < newest) this.seen.delete(runId);
  }

  private observeRun(status: PipelineRunStatus): void {
    const pipeline = status.pipeline;
    for (const job of Object.values(status.jobs)) {
      if (job.reused) continue;
      const seconds = secondsBetween(job.startedAt, job.finishedAt);
      if (seconds !== undefined) this.jobDuration.observe({ pipeline, outcome: job.status }, seconds);
      for (const step of job.steps) {
        const stepSeconds = secondsBetween(step.startedAt, step.finishedAt);
        if (stepSeconds !== undefined) this.stepDuration.observe({ pipeline, outcome: step.status }, stepSeconds);
      }
    }
  }

  private async measureQueues(): Promise<void> {
    const { TaskQueueType } = temporal.api.enums.v1;
    const queues = [
      { name: this.config.taskQueues.workflows, type: 'workflow', kind: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW },
      { name: this.config.taskQueues.workflows, type: 'activity', kind: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY },
      { name: this.config.taskQueues.docker, type: 'activity', kind: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY },
    ];
    await Promise.all(
      queues.map(async (queue) => {
        const answer = await this.client.connection.workflowService.describeTaskQueue({
          namespace: this.config.temporal.namespace,
          taskQueue: { name: queue.name },
          taskQueueType: queue.kind,
          reportStats: true,
        });
        const labels = { task_queue: queue.name, type: queue.type };
        this.queueBacklog.set(labels, Number(answer.stats?.approximateBacklogCount ?? 0));
        this.queuePollers.set(labels, answer.pollers?.length ?? 0);
      }),
    );
  }
}

function secondsBetween(start: string | undefined, end: string | undefined): number | undefined {
  if (!start || !end) return undefined;
  const seconds = (Date.parse(end) - Date.parse(start)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
