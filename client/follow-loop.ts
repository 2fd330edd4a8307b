/** The loop `conveyor run` and `conveyor logs -f` share: do something every moment until the run has closed. */
import type { ReconnectingClient } from './reconnecting-client';

/**
 * Resolves once the run has closed, however it ended. `result()` long-polls the run's history; it throws for a run
 * that failed or was cancelled, which is an end as good as any, so the run's state decides.
 */
export async function waitUntilClosed(temporal: ReconnectingClient, runId: string): Promise<void> {
  for (;;) {
    await temporal.call((client) => client.workflow.getHandle(runId).result()).catch(() => undefined);
    const description = await temporal.call((client) => client.workflow.getHandle(runId).describe());
    if (description.status.name !== 'RUNNING') return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Calls `tick` until the run has closed, pausing `pauseMs()` between calls (cut short when the run closes).
 * Rejects when following becomes impossible (the server gone for good).
 */
export async function tickUntilClosed(
  temporal: ReconnectingClient,
  runId: string,
  tick: () => Promise<void>,
  pauseMs: () => number,
): Promise<void> {
  let closed = false;
  const whenClosed = waitUntilClosed(temporal, runId).then(() => {
    closed = true;
  });
  whenClosed.catch(() => {
    closed = true;
  });
  while (!closed) {
    await tick();
    await Promise.race([whenClosed.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, pauseMs()))]);
  }
  await whenClosed;
}
