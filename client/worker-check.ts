/**
 * `conveyor run` never waits silently for a worker: right after the start it checks that live workers poll the
 * run's task queues, and if the run's first workflow task is not picked up within a few seconds it says so, with
 * how to start a worker; once one picks the run up, it says that too (docs/runs.md).
 */
import type { Client } from '@temporalio/client';
import { describePollers, unpolledQueues, type QueuePollers, type TaskQueueNames } from './task-queue-pollers';

/** How to start a worker, as the messages say it. */
export const startWorkerHint =
  "start one with 'conveyor dev up', or run 'node dist/workers/main.js' with the same TEMPORAL_ADDRESS";

/** What the watch needs. */
export interface WorkerWatch {
  /** The client of the current connection (it may change across a server restart). */
  client: () => Client;
  namespace: string;
  address: string;
  queues: TaskQueueNames;
  runId: string;
  notice: (text: string) => void;
  /** How long the first workflow task may wait before the user is told (default 5 s). */
  pickupTimeoutMs?: number;
  /** Checks every this often (default 500 ms). */
  checkEveryMs?: number;
}

/** The notice for queues no live worker polls; a runner pool's queue gets its own, naming the pool. */
export function noWorkerMessage(unpolled: QueuePollers[], address: string, now: number): string {
  const pools = unpolled.filter((queue) => queue.pool !== undefined);
  if (pools.length > 0 && pools.length === unpolled.length) return noPoolWorkerMessage(pools, address);
  if (pools.length > 0) {
    const others = unpolled.filter((queue) => queue.pool === undefined);
    return `${noWorkerMessage(others, address, now)}; and ${noPoolWorkerMessage(pools, address)}`;
  }
  const names = unpolled.map((queue) => `'${queue.queue}'`).join(' and ');
  const lastPolls = unpolled
    .flatMap((queue) => queue.pollers.map((poller) => poller.lastPolledAt?.getTime() ?? 0))
    .filter((time) => time > 0);
  const seen = lastPolls.length > 0 ? ` (last polled ${ago(now - Math.max(...lastPolls))})` : '';
  return (
    `no worker is polling task queue${unpolled.length > 1 ? 's' : ''} ${names} on ${address}${seen}; ` +
    `the run waits until one does: ${startWorkerHint}`
  );
}

/** The notice for runner pools no live worker serves (docs/operations.md, "Runner pools"). */
function noPoolWorkerMessage(pools: QueuePollers[], address: string): string {
  const names = pools.map((queue) => `'${queue.pool}' (task queue '${queue.queue}')`).join(' and ');
  const list = pools.map((queue) => queue.pool).join(',');
  return (
    `no worker serves runner pool${pools.length > 1 ? 's' : ''} ${names} on ${address}; ` +
    `its jobs wait for one until their queue_timeout, then fail with no_runner: start a worker with ` +
    `CONVEYOR_POOLS=${list} and the same TEMPORAL_ADDRESS`
  );
}

/** The notice for a run whose first workflow task no worker picked up in `seconds`. */
export function notPickedUpMessage(queues: QueuePollers[] | undefined, seconds: number, now: number): string {
  const workflowQueue = queues?.find((queue) => queue.kind === 'workflow');
  const lastPoll = Math.max(0, ...(workflowQueue?.pollers ?? []).map((poller) => poller.lastPolledAt?.getTime() ?? 0));
  const polled =
    workflowQueue && lastPoll > 0 ? ` (task queue '${workflowQueue.queue}' last polled ${ago(now - lastPoll)})` : '';
  return (
    `no worker has picked up the run after ${seconds} s${polled}; if the worker stopped, ${startWorkerHint} ` +
    `— the run starts as soon as one polls`
  );
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}

/**
 * Watches a just-started run until a worker picks it up (or `stop` aborts), telling the user when it waits for one.
 * Never throws: it only informs.
 */
export async function watchForWorker(watch: WorkerWatch, stop: AbortSignal): Promise<void> {
  const pickupTimeoutMs = watch.pickupTimeoutMs ?? 5000;
  const pollers = () =>
    describePollers(watch.client().connection, watch.namespace, watch.queues).catch(() => undefined);
  let warned = false;
  const initial = await pollers();
  const unpolled = initial ? unpolledQueues(initial, Date.now()) : [];
  if (unpolled.length > 0) {
    watch.notice(noWorkerMessage(unpolled, watch.address, Date.now()));
    warned = true;
  }
  const started = Date.now();
  while (!stop.aborted) {
    const description = await watch
      .client()
      .workflow.getHandle(watch.runId)
      .describe()
      .catch(() => undefined);
    // Started, scheduled and the first workflow task's start: a longer history means a worker took the run.
    if (description && (description.historyLength > 2 || description.status.name !== 'RUNNING')) {
      if (warned) watch.notice('a worker picked up the run');
      return;
    }
    if (!warned && Date.now() - started >= pickupTimeoutMs) {
      watch.notice(notPickedUpMessage(await pollers(), Math.round(pickupTimeoutMs / 1000), Date.now()));
      warned = true;
    }
    await sleep(watch.checkEveryMs ?? 500, stop);
  }
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    stop.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    }
  });
}
