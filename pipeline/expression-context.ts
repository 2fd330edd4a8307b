import type { ExpressionValue } from './expression-ast';

/** How a job ended, as `needs.<job>.result` reports it. */
export type JobResult = 'success' | 'failed' | 'cancelled' | 'skipped';

/** What an expression can see. Every part is optional; a missing part reads as an empty object. */
export interface ExpressionContext {
  /** The job's environment (global_env, then job environment). */
  env?: Record<string, string>;
  /** Runtime variables (`--var`). */
  vars?: Record<string, string>;
  /** The matrix values of this job expansion. */
  matrix?: Record<string, string | number | boolean>;
  /** Results of the jobs this one depends on, by name as written in `depends_on`. */
  needs?: Record<string, { result: JobResult; outputs?: Record<string, string> }>;
  /**
   * What the status functions return. When absent they are derived from `needs`: `success()` when every need
   * succeeded, `failure()` when any failed, `cancelled()` false.
   */
  status?: { success: boolean; failure: boolean; cancelled: boolean };
  /** Further named values (tests, future contexts). */
  [name: string]: ExpressionValue | object | undefined;
}

/** Names an `if:` may use as the root of a property access. */
export const conditionContextNames = ['env', 'vars', 'matrix', 'needs'] as const;
/** Names a `${{ }}` in any other field may use (resolved when the pipeline is parsed). */
export const parseTimeContextNames = ['env', 'vars', 'matrix', 'secrets'] as const;
/** Functions that depend on how the job's dependencies ended (only meaningful in `if:`). */
export const statusFunctionNames = ['success', 'failure', 'always', 'cancelled'] as const;
