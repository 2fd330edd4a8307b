/**
 * Reading runs for the server: a run's status the way the CLI reads it (client/runs.ts), a short-lived cache of
 * finished runs (their status never changes, so repeated page loads and API calls cost Temporal nothing), and one
 * shared poller per watched run however many browsers follow it.
 */
import type { Client } from '@temporalio/client';
import type { PipelineRunInput, PipelineRunStatus } from '../workflows/pipeline-run-messages';
import { fetchRunInput, fetchRunStatus } from '../client/runs';

/** A run's status and whether it can still change. */
export interface RunSnapshot {
  status: PipelineRunStatus;
  closed: boolean;
}

/** Called with every new state of a watched run; `closed` on the last one. */
export type RunListener = (snapshot: RunSnapshot) => void;

export interface RunReaderOptions {
  /** How often a watched run is polled (default 500 ms). */
  pollMs?: number;
  /** How many finished runs stay cached (default 500). */
  cacheSize?: number;
  /** How long a finished run stays cached (default 60 s; a deleted run disappears after at most this). */
  cacheTtlMs?: number;
}

interface Watch {
  listeners: Set<RunListener>;
  last?: string;
  timer?: NodeJS.Timeout;
}

/** Reads and watches runs through one Temporal client. */
export class RunReader {
  private readonly finished = new Map<string, { snapshot: RunSnapshot; at: number }>();
  private readonly watches = new Map<string, Watch>();
  private readonly definitions = new Map<string, PipelineRunInput>();
  private readonly pollMs: number;
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;

  constructor(
    private readonly client: Client,
    options: RunReaderOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 500;
    this.cacheSize = options.cacheSize ?? 500;
    this.cacheTtlMs = options.cacheTtlMs ?? 60_000;
  }

  /** The run's current status; throws RunNotFoundError for an unknown run. */
  async read(runId: string): Promise<RunSnapshot> {
    const cached = this.finished.get(runId);
    if (cached && Date.now() - cached.at < this.cacheTtlMs) return cached.snapshot;
    const status = await fetchRunStatus(this.client, runId);
    const snapshot = { status, closed: status.status !== 'running' };
    if (snapshot.closed) {
      this.finished.delete(runId);
      this.finished.set(runId, { snapshot, at: Date.now() });
      // Maps iterate in insertion order: the first key is the oldest entry.
      if (this.finished.size > this.cacheSize) this.finished.delete(this.finished.keys().next().value!);
    }
    return snapshot;
  }

  /** The input a run was started with (its definition never changes, so it is cached). */
  async definition(runId: string): Promise<PipelineRunInput> {
    const cached = this.definitions.get(runId);
    if (cached) return cached;
    const input = await fetchRunInput(this.client, runId);
    this.definitions.set(runId, input);
    if (this.definitions.size > this.cacheSize) this.definitions.delete(this.definitions.keys().next().value!);
    return input;
  }

  /**
   * Calls `listener` with the run's status now and whenever it changes, until it is closed (the last call has
   * `closed: true`) or the returned function is called. Errors while polling are retried on the next tick.
   */
  watch(runId: string, listener: RunListener): () => void {
    let watch = this.watches.get(runId);
    if (!watch) {
      watch = { listeners: new Set() };
      this.watches.set(runId, watch);
      this.schedule(runId, watch, 0);
    } else if (watch.last) {
      const last = JSON.parse(watch.last) as RunSnapshot;
      queueMicrotask(() => listener(last));
    }
    watch.listeners.add(listener);
    return () => {
      watch.listeners.delete(listener);
      if (watch.listeners.size === 0) this.stop(runId, watch);
    };
  }

  /** Stops every poller (server shutdown). */
  close(): void {
    for (const [runId, watch] of this.watches) this.stop(runId, watch);
  }

  private schedule(runId: string, watch: Watch, delayMs: number): void {
    watch.timer = setTimeout(() => void this.poll(runId, watch), delayMs);
  }

  private async poll(runId: string, watch: Watch): Promise<void> {
    let snapshot: RunSnapshot | undefined;
    try {
      snapshot = await this.read(runId);
    } catch {
      // A transient Temporal error: try again next tick; an unknown run was refused before anyone watched it.
    }
    if (this.watches.get(runId) !== watch) return;
    if (snapshot) {
      const text = JSON.stringify(snapshot);
      if (text !== watch.last) {
        watch.last = text;
        for (const listener of watch.listeners) listener(snapshot);
      }
      if (snapshot.closed) {
        this.stop(runId, watch);
        return;
      }
    }
    this.schedule(runId, watch, this.pollMs);
  }

  private stop(runId: string, watch: Watch): void {
    clearTimeout(watch.timer);
    if (this.watches.get(runId) === watch) this.watches.delete(runId);
  }
}
