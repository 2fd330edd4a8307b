/**
 * A step's deadline: when the step has run for its timeout, its container gets SIGTERM and, after the grace period,
 * SIGKILL (`docker stop`); docker-init (PID 1) forwards the signal to the script.
 */
import type Docker from 'dockerode';

/** A running deadline. */
export interface StepDeadline {
  /** Whether the deadline fired. */
  timedOut(): boolean;
  /** Stops the timer. */
  clear(): void;
}

/** Stops `container` `timeoutSeconds` from now, with `graceSeconds` between SIGTERM and SIGKILL. */
export function armStepDeadline(
  container: Docker.Container,
  timeoutSeconds: number,
  graceSeconds: number,
): StepDeadline {
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    container.stop({ t: graceSeconds }).catch(() => undefined);
  }, timeoutSeconds * 1000);
  return { timedOut: () => fired, clear: () => clearTimeout(timer) };
}
