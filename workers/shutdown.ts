/**
 * Stopping a worker (docs/runs.md, "Stopping a worker"), as Kubernetes and CI runners stop theirs: the first SIGTERM
 * or SIGINT stops polling for new tasks at once and lets running steps finish within the shutdown grace
 * (`CONVEYOR_WORKER_SHUTDOWN_GRACE`, given to Temporal's `shutdownGraceTime`); their results are reported. A step
 * still running when the grace ends is left running — the SDK cancels its activity with `WORKER_SHUTDOWN`, which the
 * step takes as a hand-over, not as the run's cancel — and the activity's next attempt adopts the container on
 * another worker or the restarted one. A second signal exits at once, like a crash: the same adoption follows.
 */
import { constants } from 'node:os';
import type { Worker } from '@temporalio/worker';
import { settleStepRemovals } from '../activities/docker-step-cleanup';
import { runWorkers } from './create-workers';

/** The signals that stop a worker. */
const stopSignals = ['SIGTERM', 'SIGINT'] as const;

/**
 * Runs the workers until they stop, draining them on the first SIGTERM/SIGINT and exiting on the second. Install
 * Temporal's runtime with `shutdownSignals: []` so these handlers alone decide. Waits for finished steps' containers
 * to be removed before returning.
 */
export async function runWorkersUntilStopped(
  workers: Worker[],
  graceSeconds: number,
  log: (line: string) => void = (line) => console.log(line),
): Promise<void> {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`worker: ${signal} again: exiting now; running steps stay running for another worker to adopt`);
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    log(
      `worker: ${signal}: draining: no new tasks; running steps have ${graceSeconds} s to finish, then stay running ` +
        `for another worker to adopt (send ${signal} again to exit now)`,
    );
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  for (const signal of stopSignals) process.on(signal, onSignal);
  try {
    await runWorkers(workers);
  } finally {
    for (const signal of stopSignals) process.off(signal, onSignal);
  }
  await settleStepRemovals();
  if (stopping) log('worker: drained, exiting');
}
