/**
 * A step's deadline, fixed when its container started (Docker's `State.StartedAt`): an adopted container keeps the
 * deadline it had, however late it is adopted. At the deadline the container gets SIGTERM and, after the grace
 * period, SIGKILL (`docker stop`); docker-init (PID 1) forwards the signal to the script.
 */
import type Docker from 'dockerode';

/** A running deadline. */
export interface StepDeadline {
  /** Whether the deadline fired while this attempt watched the container. */
  fired(): boolean;
  /** Stops the timer. */
  clear(): void;
}

/** Stops `container` once it has run `timeoutSeconds` since `startedAtMs` (at once if that is past). */
export function armStepDeadline(
  container: Docker.Container,
  startedAtMs: number,
  timeoutSeconds: number,
  graceSeconds: number,
): StepDeadline {
  let fired = false;
  const timer = setTimeout(
    () => {
      fired = true;
      container.stop({ t: graceSeconds }).catch(() => undefined);
    },
    Math.max(0, startedAtMs + timeoutSeconds * 1000 - Date.now()),
  );
  return { fired: () => fired, clear: () => clearTimeout(timer) };
}

/** Whether a container that has exited ran into its deadline (for a container this attempt did not watch start). */
export function ranPastDeadline(state: { StartedAt: string; FinishedAt: string }, timeoutSeconds: number): boolean {
  const ran = Date.parse(state.FinishedAt) - Date.parse(state.StartedAt);
  return ran >= timeoutSeconds * 1000;
}
