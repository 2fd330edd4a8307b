import { z } from 'zod';
import { deploySchema } from '../deploy/spec-schema';
import { retentionPoliciesSchema } from './retention-policy';
import { durationSchema } from './duration-schema';
import { formatMemorySize, parseMemorySize } from './memory-size';

import { jobNamePattern, maxJobNameLength, variableNamePattern } from './names';
import { concurrencySchema, jobCheckoutSchema, pipelineCheckoutSchema, triggersSchema } from './trigger-schema';
import { queueTimeoutSchema, runsOnSchema } from './runner-pool-schema';

export { jobNamePattern, maxJobNameLength, variableNamePattern };

/** Fixed defaults and ranges of the language, shared by the schema, the model builder and the docs. */
export const limits = {
  pipelineTimeout: { min: 1, max: 86_400, default: 7200 },
  jobTimeout: { min: 1, max: 3600, default: 3600 },
  stepTimeout: { min: 1, max: 1800, default: 1800 },
  jobRetryCount: { min: 0, max: 5, default: 0 },
  stepRetryCount: { min: 0, max: 3, default: 0 },
  memoryBytes: { min: 6 * 1024 ** 2, max: 64 * 1024 ** 3, default: 512 * 1024 ** 2 },
  diskBytes: { min: 8 * 1024 ** 2, max: 1024 ** 4 },
  cpus: { min: 0.01, max: 64, default: 1 },
  maxParallel: { min: 1, max: 1000 },
  matrixCombinations: 256,
  workingDirectory: '/workspace',
} as const;

const scalarSchema = z.union([z.string(), z.number(), z.boolean()]);

/** Environment variables: names to scalar values (numbers and booleans become strings, null the empty string). */
export const environmentSchema = z
  .record(z.string(), z.union([scalarSchema, z.null()], { error: 'expected a string, number or boolean value' }))
  .superRefine((environment, context) => {
    for (const name of Object.keys(environment)) {
      if (!variableNamePattern.test(name)) {
        context.addIssue({
          code: 'custom',
          path: [name],
          message: `'${name}' is not a valid variable name`,
          params: {
            code: 'invalid_name',
            hint: 'variable names start with a letter or _, then letters, digits or _',
            atKey: true,
          },
        });
      }
    }
  })
  .transform((environment) =>
    Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, value === null ? '' : String(value)])),
  )
  .meta({ description: 'Environment variables (name → value).' });

const scriptSchema = z
  .union([z.string(), z.array(scalarSchema).min(1)], {
    error: 'expected a shell command or a list of shell commands',
  })
  .transform((script) => (Array.isArray(script) ? script.map(String) : [script]))
  .superRefine((lines, context) => {
    if (lines.every((line) => line.trim() === '')) {
      context.addIssue({
        code: 'custom',
        message: 'the script is empty',
        params: { code: 'schema', hint: `give at least one command, e.g. script: ["echo 'hello'"]` },
      });
    }
  })
  .meta({ description: 'Shell commands run in order with `sh -e`: a list, or one (multi-line) string.' });

/** When a step's image is pulled (docs/runs.md, "Images and registries"). */
const pullPolicySchema = z.enum(['if_not_present', 'always', 'never']).meta({
  description: 'Pull the image when it is not on the Docker host, before every step, or never.',
  default: 'if_not_present',
});

/** One step: one container running a script. */
export const stepSchema = z
  .strictObject({
    name: z.string().min(1).max(100).meta({ description: 'Step name, unique within the job.' }),
    script: scriptSchema,
    image: z.string().optional().meta({ description: 'Container image; default the job image, else ubuntu:20.04.' }),
    pull_policy: pullPolicySchema.optional(),
    environment: environmentSchema.optional(),
    working_directory: z.string().optional().meta({
      description: 'Directory the script runs in; relative paths are under /workspace.',
      default: '/workspace',
    }),
    timeout: durationSchema(limits.stepTimeout, "a step's timeout").optional(),
    retry_count: z
      .int()
      .min(limits.stepRetryCount.min)
      .max(limits.stepRetryCount.max)
      .optional()
      .meta({ description: 'Retries after the first attempt (0–3).', default: 0 }),
    retry_on: z
      .array(z.int().min(1).max(255))
      .optional()
      .meta({ description: 'Exit codes that count as transient and are retried within retry_count.' }),
    continue_on_failure: z
      .boolean()
      .optional()
      .meta({ description: 'When true a failing step does not fail its job.', default: false }),
  })
  .meta({ description: 'A step: one container running a script.' });

const pathsSchema = z.union([z.string(), z.array(z.string()).min(1)], {
  error: 'expected a path or glob, or a list of them',
});

/** An artifact: a path or glob, a list of them, or `{paths, when}`. */
export const artifactSchema = z
  .union(
    [
      z.string(),
      z.array(z.string()).min(1),
      z.strictObject({
        paths: pathsSchema,
        when: z.enum(['on_success', 'always']).optional().meta({ default: 'on_success' }),
        optional: z.boolean().optional().meta({
          description: 'May match nothing (then nothing is stored); else that fails the job.',
          default: false,
        }),
      }),
    ],
    { error: 'expected a path or glob, a list of them, or {paths, when, optional}' },
  )
  .meta({
    description: 'Workspace-relative path or glob, a list of them, or {paths, when: on_success|always, optional}.',
  });

const matrixValueSchema = z.union([z.string(), z.number(), z.boolean()], {
  error: 'matrix values must be strings, numbers or booleans',
});
const matrixEntrySchema = z.record(z.string(), matrixValueSchema);

/** A job matrix: axes of values, plus `include`, `exclude`, `max_parallel` and `fail_fast`. */
export const matrixSchema = z
  .object({
    include: z
      .array(matrixEntrySchema)
      .optional()
      .meta({ description: 'Extra combinations, or values added to matching ones.' }),
    exclude: z.array(matrixEntrySchema).optional().meta({ description: 'Combinations (or partial ones) to drop.' }),
    max_parallel: z
      .int()
      .min(limits.maxParallel.min)
      .max(limits.maxParallel.max)
      .optional()
      .meta({ description: 'At most this many expansions run at once.' }),
    fail_fast: z
      .boolean()
      .optional()
      .meta({ description: 'Cancel the other expansions when one fails.', default: true }),
  })
  .catchall(z.array(matrixValueSchema, { error: 'a matrix axis is a list of values' }).min(1))
  .meta({ description: 'Run the job once per combination of the axis values.' });

const dependencyListSchema = z
  .union([z.string(), z.array(z.string())], { error: 'expected a job name or a list of job names' })
  .meta({ description: 'Jobs that must succeed before this one starts.' });

const conditionSchema = z
  .union([z.string(), z.boolean()], { error: 'expected an expression such as "success()" or true/false' })
  .meta({ description: 'Expression evaluated when the job becomes ready; the job runs only if it is true.' });

/** A job runs steps or deploys a service (docs/deployments.md#the-deploy-job): exactly one of the two. */
function checkJobKind(job: { steps?: unknown; deploy?: unknown }, context: z.RefinementCtx): void {
  if (job.steps === undefined && job.deploy === undefined) {
    // Reported as the missing `steps` field (hint in schema-issues.ts), or as its misspelling when there is one.
    context.addIssue({ code: 'invalid_type', expected: 'array', path: ['steps'], input: undefined, message: '' });
  } else if (job.steps !== undefined && job.deploy !== undefined) {
    context.addIssue({
      code: 'custom',
      path: ['deploy'],
      message: 'a job has steps: or deploy:, not both',
      params: { code: 'schema', hint: 'move the steps into a job that this one needs', atKey: true },
    });
  }
}

/** One job: steps sharing a workspace, run in order. */
export const jobSchema = z
  .strictObject({
    steps: z
      .array(stepSchema)
      .min(1)
      .optional()
      .meta({ description: 'Steps run in order, each in a fresh container (a job has steps: or deploy:).' }),
    depends_on: dependencyListSchema.optional(),
    needs: dependencyListSchema.optional().meta({ description: 'Alias of depends_on.' }),
    image: z.string().optional().meta({ description: 'Default image for the job’s steps.' }),
    pull_policy: pullPolicySchema.optional(),
    environment: environmentSchema.optional(),
    timeout: durationSchema(limits.jobTimeout, "a job's timeout").optional(),
    retry_count: z
      .int()
      .min(limits.jobRetryCount.min)
      .max(limits.jobRetryCount.max)
      .optional()
      .meta({ description: 'Retries of the whole job after the first attempt (0–5).', default: 0 }),
    if: conditionSchema.optional(),
    conditional: conditionSchema.optional().meta({ description: 'Alias of if.' }),
    artifacts: z.record(z.string(), artifactSchema).optional().meta({ description: 'Files handed to dependents.' }),
    artifacts_from: z
      .array(z.string())
      .optional()
      .meta({ description: 'Which dependencies to receive artifacts from (default: all of them; [] for none).' }),
    matrix: matrixSchema.optional(),
    resources: z
      .strictObject({
        memory: z
          .union([z.number(), z.string()], { error: 'expected a memory size such as "512Mi" or "2g"' })
          .superRefine((value, context) => {
            const bytes = parseMemorySize(value);
            const range = limits.memoryBytes;
            if (bytes === undefined) {
              context.addIssue({
                code: 'custom',
                message: `'${value}' is not a memory size`,
                params: { code: 'schema', hint: 'write a size such as "512Mi", "512m", "2g" or "1GiB"' },
              });
            } else if (bytes < range.min || bytes > range.max) {
              context.addIssue({
                code: 'custom',
                message: `${formatMemorySize(bytes)} is out of range: memory must be between ${formatMemorySize(range.min)} and ${formatMemorySize(range.max)}`,
                params: { code: 'out_of_range', hint: 'choose a size between 6Mi and 64Gi' },
              });
            }
          })
          .optional()
          .meta({ description: 'Memory limit per step container, e.g. "512Mi", "2g".', default: '512Mi' }),
        cpus: z
          .number()
          .min(limits.cpus.min)
          .max(limits.cpus.max)
          .optional()
          .meta({ description: 'CPU limit per step container (fractions allowed).', default: 1 }),
        disk: z
          .union([z.number(), z.string()], { error: 'expected a size such as "100Mi" or "2g"' })
          .superRefine((value, context) => {
            const bytes = parseMemorySize(value);
            const range = limits.diskBytes;
            if (bytes === undefined || bytes < range.min || bytes > range.max) {
              context.addIssue({
                code: 'custom',
                message: `'${value}' is not a workspace size between ${formatMemorySize(range.min)} and ${formatMemorySize(range.max)}`,
                params: {
                  code: bytes === undefined ? 'schema' : 'out_of_range',
                  hint: 'write a size such as "100Mi" or "2g"',
                },
              });
            }
          })
          .optional()
          .meta({
            description: 'Size limit of the job’s workspace, e.g. "1Gi"; writing past it fails the step disk_full.',
          }),
      })
      .optional()
      .meta({ description: 'Container limits for every step of the job.' }),
    network: z.enum(['isolated', 'egress', 'none']).optional().meta({
      description:
        "The run's isolated network (no route outside the host), its egress network (outbound access), or none.",
      default: 'isolated',
    }),
    deploy: deploySchema
      .optional()
      .meta({ description: 'Roll a service out instead of running steps (docs/deployments.md).' }),
    checkout: jobCheckoutSchema.optional(),
    runs_on: runsOnSchema.optional(),
    queue_timeout: queueTimeoutSchema.optional(),
  })
  .superRefine(checkJobKind)
  .meta({ description: 'A job: steps sharing a workspace, run in order, or a deployment.' });

/** Pipeline-level fields other than `jobs`. */
const pipelineFields = {
  name: z.string().min(1).max(100).meta({ description: 'Pipeline name.' }),
  global_env: environmentSchema.optional(),
  timeout: durationSchema(limits.pipelineTimeout, "the pipeline's timeout").optional(),
  retry_policy: z
    .strictObject({
      retry_count: z.int().min(limits.stepRetryCount.min).max(limits.stepRetryCount.max).optional(),
      retry_on: z.array(z.int().min(1).max(255)).optional(),
    })
    .optional()
    .meta({ description: 'Defaults for every step’s retry_count and retry_on.' }),
  artifacts: z
    .strictObject({
      when: z.enum(['on_success', 'always']).optional(),
      retention: retentionPoliciesSchema
        .optional()
        .meta({ description: 'Retention policies for this pipeline’s artifacts, before the configured ones.' }),
    })
    .optional()
    .meta({ description: 'Defaults for every job’s artifacts.' }),
  triggers: triggersSchema.optional(),
  concurrency: concurrencySchema.optional(),
  checkout: pipelineCheckoutSchema.optional(),
  deploy: z.record(z.string(), z.unknown()).optional().meta({ description: 'Deployment targets.' }),
  runs_on: runsOnSchema.optional().meta({ description: 'The default runner pool of every job (docs/operations.md).' }),
  queue_timeout: queueTimeoutSchema.optional(),
};

/** The top level as parsed: jobs are checked one by one afterwards, so one bad job hides nothing else. */
export const pipelineHeaderSchema = z.strictObject({
  ...pipelineFields,
  jobs: z.record(z.string(), z.unknown()),
});

/** The whole pipeline file; the source of docs/pipeline.schema.json. */
export const pipelineSchema = z
  .strictObject({
    ...pipelineFields,
    jobs: z
      .record(z.string().regex(jobNamePattern).max(maxJobNameLength), jobSchema)
      .meta({ description: 'Jobs by name (at least one).' }),
  })
  .meta({ title: 'Conveyor pipeline', description: 'A Conveyor CI/CD pipeline (pipeline.yml).' });

/** A step as the schema leaves it. */
export type StepInput = z.output<typeof stepSchema>;
/** A job as the schema leaves it. */
export type JobInput = z.output<typeof jobSchema>;
/** The top level as the schema leaves it. */
export type PipelineHeaderInput = z.output<typeof pipelineHeaderSchema>;
/** A matrix as the schema leaves it. */
export type MatrixInput = z.output<typeof matrixSchema>;
