/** The `runs_on:` and `queue_timeout:` fields of the pipeline language (docs/operations.md, "Runner pools"). */
import { z } from 'zod';
import { durationSchema } from './duration-schema';
import { poolNamePattern, queueTimeoutLimits } from './runner-pool';

/** `runs_on:` on a job or (as the default of every job) on the pipeline. */
export const runsOnSchema = z
  .string({ error: 'expected a pool name such as "default" or "big-memory"' })
  .max(63, { error: 'a pool name has at most 63 characters' })
  .superRefine((pool, context) => {
    if (!poolNamePattern.test(pool)) {
      context.addIssue({
        code: 'custom',
        message: `'${pool}' is not a valid pool name`,
        params: {
          code: 'schema',
          hint: 'pool names start with a letter or digit, then letters, digits, _ or - (e.g. big-memory)',
        },
      });
    }
  })
  .meta({
    description: 'The runner pool whose workers run the job (CONVEYOR_POOLS on the worker).',
    default: 'default',
  });

/** `queue_timeout:` on a job or the pipeline. */
export const queueTimeoutSchema = durationSchema(queueTimeoutLimits, 'a queue timeout').meta({
  description:
    'How long the job may wait for a worker of its pool before it fails with no_runner: seconds or "90s", "15m", "2h".',
  default: queueTimeoutLimits.default,
});
