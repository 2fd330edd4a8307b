/** Request and response schemas of the runs API (server/routes/runs.ts); they also make the OpenAPI document. */
import { z } from 'zod';

/** A run id as Conveyor makes them (`run-<pipeline>-<ulid>`); anything else is refused before Temporal is asked. */
export const runIdParams = z.object({
  runId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$/, 'a run id looks like run-hello-01j9…')
    .meta({ description: 'The run id (its workflow id), e.g. run-hello-01j9zq…' }),
});

export const startRunBody = z
  .strictObject({
    pipeline: z.string().min(1).max(1_000_000).meta({ description: 'The pipeline file content (YAML).' }),
    file: z
      .string()
      .max(200)
      .optional()
      .meta({ description: 'A name for the file in error messages (default pipeline.yml).' }),
    vars: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name is letters, digits and _'), z.string())
      .default({})
      .meta({ description: 'Run-time variables (like conveyor run --var NAME=value).' }),
  })
  .meta({ id: 'StartRun' });

export const rerunBody = z
  .strictObject({
    failed: z
      .boolean()
      .default(true)
      .meta({ description: 'Reuse successful jobs and run only the others (default); false re-runs everything.' }),
  })
  .default({ failed: true });

export const runLinksSchema = z.object({
  self: z.string().meta({ description: 'This run in the API.' }),
  web: z.string().meta({ description: 'This run in the web view.' }),
  temporal: z.string().meta({ description: 'This run in the Temporal UI.' }),
});

export const runStartedSchema = z
  .object({
    runId: z.string(),
    status: z.literal('running'),
    rerunOf: z.string().optional(),
    links: runLinksSchema,
  })
  .meta({ id: 'RunStarted' });

export const stepStateSchema = z.looseObject({
  name: z.string(),
  status: z
    .string()
    .meta({ description: 'pending, running, retrying, success, failed, cancelled, timed_out, skipped' }),
  attempts: z.number().int(),
  exitCode: z.number().int().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  logTail: z.array(z.string()).optional(),
});

export const jobStateSchema = z.looseObject({
  status: z.string().meta({ description: 'pending, running, retrying, success, failed, cancelled, skipped' }),
  baseName: z.string(),
  workflowId: z.string().optional(),
  attempts: z.number().int().optional(),
  reused: z.boolean().optional(),
  reason: z.string().optional(),
  exitCode: z.number().int().optional(),
  failedStep: z.string().optional(),
  message: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  steps: z.array(stepStateSchema),
});

export const runStatusSchema = z
  .object({
    runId: z.string(),
    pipeline: z.string(),
    status: z.enum(['running', 'success', 'failed', 'cancelled']),
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    jobs: z.record(z.string(), jobStateSchema).meta({ description: "Jobs by name, in the pipeline's order." }),
    links: runLinksSchema,
  })
  .meta({ id: 'RunStatus' });

export const listRunsQuery = z.object({
  pipeline: z.string().max(200).optional(),
  status: z.enum(['running', 'success', 'failed', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const runListingSchema = z.object({
  runId: z.string(),
  pipeline: z.string(),
  status: z.string(),
  trigger: z.string(),
  startTime: z.string(),
  closeTime: z.string().optional(),
});

export const runListSchema = z.object({ runs: z.array(runListingSchema) }).meta({ id: 'RunList' });

export const logsQuery = z.object({
  job: z.string().max(300).optional(),
  step: z.string().max(300).optional(),
  stream: z.enum(['stdout', 'stderr']).optional(),
  follow: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .meta({ description: '1: answer with server-sent events (`log` per line, `end` when the run ends).' }),
});

export const logRecordSchema = z.object({
  ts: z.string(),
  stream: z.enum(['stdout', 'stderr']),
  job: z.string(),
  step: z.string(),
  attempt: z.number().int(),
  line: z.string(),
});

export const logsSchema = z.object({ records: z.array(logRecordSchema) }).meta({ id: 'RunLogs' });

export const cancelledSchema = z.object({ runId: z.string(), status: z.literal('cancelling') });
