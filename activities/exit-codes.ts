/**
 * What a container's exit code means (DESIGN.md §5): the run says *why* a step failed, not just that it did.
 */
import { constants } from 'node:os';

/** Why a step ended the way it did. */
export type ExitReason =
  | 'exit_code'
  | 'command_not_found'
  | 'not_executable'
  | 'oom_killed'
  /** The step wrote past its workspace's `resources.disk` (docs/runs.md, "Limits"). */
  | 'disk_full'
  | 'signal'
  | 'timed_out'
  | 'image_not_found'
  | 'infrastructure'
  | 'configuration'
  /** No worker of the job's runner pool took its work within `queue_timeout` (docs/operations.md). */
  | 'no_runner'
  | 'cancelled';

/** Classifies a container exit; `undefined` for success. */
export function classifyExit(exitCode: number, oomKilled: boolean): ExitReason | undefined {
  if (exitCode === 0) return undefined;
  if (oomKilled) return 'oom_killed';
  if (exitCode === 126) return 'not_executable';
  if (exitCode === 127) return 'command_not_found';
  if (exitCode > 128 && exitCode <= 128 + 64) return 'signal';
  return 'exit_code';
}

/** The name of the signal behind an exit code above 128 (`137` → `SIGKILL`), if any. */
export function signalName(exitCode: number): string | undefined {
  if (exitCode <= 128) return undefined;
  const number = exitCode - 128;
  return Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
}
