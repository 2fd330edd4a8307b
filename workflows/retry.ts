/**
 * Script-retry decisions (DESIGN.md §5, §9): a non-zero exit is permanent unless the step has `retry_count`;
 * with `retry_on`, only those exit codes count as transient. Exit codes 126 and 127 (not executable, command not
 * found) never retry: running the same missing command again cannot help.
 */
import type { StepModel } from '../pipeline/model';
import type { RunStepResult } from '../activities/docker-step';

/** Exit codes that are never retried. */
export const neverRetriedExitCodes: readonly number[] = [126, 127];

/** Whether a failed attempt (`attempt` is 1-based) is followed by another. */
export function shouldRetryStep(step: StepModel, result: RunStepResult, attempt: number): boolean {
  if (result.outcome === 'success') return false;
  if (attempt > step.retryCount) return false;
  if (neverRetriedExitCodes.includes(result.exitCode)) return false;
  if (step.retryOn.length > 0 && !step.retryOn.includes(result.exitCode)) return false;
  return true;
}

/**
 * Backoff before attempt `attempt + 1`: `initialSeconds` doubling per attempt up to `maxSeconds`, with ±25 %
 * jitter from `random` (a number in [0, 1); the workflow's deterministic Math.random).
 */
export function retryDelaySeconds(
  attempt: number,
  backoff: { initialSeconds: number; maxSeconds: number },
  random: number,
): number {
  const base = Math.min(backoff.maxSeconds, backoff.initialSeconds * 2 ** (attempt - 1));
  return base * (0.75 + random * 0.5);
}
