/**
 * A deadline for a piece of workflow code: a durable timer that cancels a scope when it fires. Runs and jobs use it
 * for their timeouts, so a timeout cancels whatever runs (containers included) exactly like a user's cancel does.
 */
import { CancellationScope, sleep } from '@temporalio/workflow';

/** A scope that is cancelled `seconds` after creation, unless `clear()` is called first. */
export interface DeadlineScope {
  /** Run the guarded code in this scope. */
  scope: CancellationScope;
  /** Whether the deadline fired (as opposed to any other cancellation). */
  timedOut(): boolean;
  /** Stops the timer; call when the guarded code is done. */
  clear(): void;
}

/** Starts a deadline of `seconds` (a durable timer in the workflow's history). */
export function startDeadline(seconds: number): DeadlineScope {
  let fired = false;
  const scope = new CancellationScope();
  const timer = new CancellationScope();
  void timer
    .run(() => sleep(seconds * 1000))
    .then(
      () => {
        fired = true;
        scope.cancel();
      },
      () => undefined,
    );
  return { scope, timedOut: () => fired, clear: () => timer.cancel() };
}
