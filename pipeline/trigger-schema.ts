/**
 * The `triggers:`, `concurrency:` and `checkout:` sections of a pipeline (docs/triggers.md): what starts a run, how
 * runs of one concurrency group take turns, and how each job receives the run's source tree.
 */
import { z } from 'zod';
import { cronProblem } from './cron';
import { globProblem } from './trigger-match';
import { checkWorkspacePath } from './artifact-path';
import { variableNamePattern } from './names';

/** Pull request activity types a `pull_request` trigger may name (GitHub's names; GitLab's actions map onto them). */
export const pullRequestTypes = ['opened', 'synchronize', 'reopened', 'closed', 'edited', 'ready_for_review'] as const;
/** The types a `pull_request` trigger reacts to when it names none (as GitHub Actions does). */
export const defaultPullRequestTypes: readonly PullRequestType[] = ['opened', 'synchronize', 'reopened'];
export type PullRequestType = (typeof pullRequestTypes)[number];

/** Schedule overlap policies (Temporal's), in pipeline spelling. */
export const overlapPolicies = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all'];

const globListSchema = z
  .array(
    z.string().superRefine((pattern, context) => {
      const problem = globProblem(pattern);
      if (problem) {
        context.addIssue({
          code: 'custom',
          message: problem,
          params: {
            code: 'invalid_glob',
            hint: 'write a glob such as main, "release/*", "v*" or "src/**"; a leading ! excludes',
          },
        });
      }
    }),
  )
  .min(1);

function exclusive(first: string, second: string) {
  return (value: Record<string, unknown>, context: z.RefinementCtx) => {
    if (value[first] !== undefined && value[second] !== undefined) {
      context.addIssue({
        code: 'custom',
        path: [second],
        message: `'${first}' and '${second}' cannot both be set`,
        params: {
          code: 'schema',
          hint: `keep one: use '!' patterns inside ${first} to exclude, e.g. ${first}: ["*", "!experimental/*"]`,
          atKey: true,
        },
      });
    }
  };
}

/** A trigger written with no value (`push:`) reacts to everything of its kind. */
function orNull<T extends z.ZodType>(schema: T) {
  return z.union([z.null(), schema]).transform((value) => (value ?? {}) as z.output<T>);
}

/** `push:`: branch and tag pushes, filtered by branch, tag and changed paths. */
export const pushTriggerSchema = orNull(
  z
    .strictObject({
      branches: globListSchema
        .optional()
        .meta({ description: 'Branch globs that start a run, e.g. [main, "release/*"].' }),
      branches_ignore: globListSchema.optional().meta({ description: 'Branch globs that never start a run.' }),
      tags: globListSchema.optional().meta({ description: 'Tag globs that start a run, e.g. ["v*"].' }),
      tags_ignore: globListSchema.optional().meta({ description: 'Tag globs that never start a run.' }),
      paths: globListSchema.optional().meta({ description: 'Run only when a changed file matches, e.g. ["src/**"].' }),
      paths_ignore: globListSchema.optional().meta({ description: 'Skip when every changed file matches these.' }),
    })
    .superRefine(exclusive('branches', 'branches_ignore'))
    .superRefine(exclusive('tags', 'tags_ignore'))
    .superRefine(exclusive('paths', 'paths_ignore'))
    .meta({ description: 'Pushes of branches and tags (GitHub and GitLab push webhooks).' }),
);

/** `pull_request:`: pull (merge) requests into matching base branches. */
export const pullRequestTriggerSchema = orNull(
  z
    .strictObject({
      branches: globListSchema.optional().meta({ description: 'Globs of the base (target) branch.' }),
      branches_ignore: globListSchema.optional().meta({ description: 'Base branch globs that never start a run.' }),
      types: z
        .array(z.enum(pullRequestTypes))
        .min(1)
        .optional()
        .meta({ description: 'Activity types that start a run.', default: [...defaultPullRequestTypes] }),
      paths: globListSchema.optional().meta({ description: 'Run only when a changed file matches.' }),
      paths_ignore: globListSchema.optional().meta({ description: 'Skip when every changed file matches these.' }),
    })
    .superRefine(exclusive('branches', 'branches_ignore'))
    .superRefine(exclusive('paths', 'paths_ignore'))
    .meta({ description: 'Pull requests (GitHub) and merge requests (GitLab).' }),
);

/** One `schedule:` entry: a cron expression on a branch. */
export const scheduleEntrySchema = z
  .strictObject({
    cron: z.string().superRefine((expression, context) => {
      const problem = cronProblem(expression);
      if (problem) {
        context.addIssue({
          code: 'custom',
          message: problem,
          params: {
            code: 'invalid_cron',
            hint: 'write five fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *", or @daily',
          },
        });
      }
    }),
    branch: z.string().min(1).optional().meta({
      description: "Branch whose latest commit the schedule runs (default: the repository's default branch).",
    }),
    timezone: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'IANA time zone of the cron expression.', default: 'UTC' }),
    overlap: z
      .enum(overlapPolicies)
      .optional()
      .meta({ description: 'What happens when the previous scheduled run is still running.', default: 'skip' }),
  })
  .meta({ description: 'A Temporal Schedule: run the branch’s latest commit on a cron expression.' });

/** One `manual: {inputs: …}` entry. */
export const manualInputSchema = orNull(
  z
    .strictObject({
      description: z.string().optional(),
      default: z
        .union([z.string(), z.number(), z.boolean()])
        .optional()
        .meta({ description: 'Value when none is given.' }),
      required: z.boolean().optional().meta({ description: 'A run must give a value.', default: false }),
      options: z
        .array(z.union([z.string(), z.number(), z.boolean()]))
        .min(1)
        .optional()
        .meta({ description: 'The only values allowed.' }),
    })
    .superRefine((input, context) => {
      if (input.options && input.default !== undefined && !input.options.map(String).includes(String(input.default))) {
        context.addIssue({
          code: 'custom',
          path: ['default'],
          message: `the default '${String(input.default)}' is not one of the options`,
          params: { code: 'schema', hint: `use one of: ${input.options.map(String).join(', ')}` },
        });
      }
    }),
);

/** `manual:`: runs a person starts (`conveyor run`, the API), with declared inputs. */
export const manualTriggerSchema = orNull(
  z
    .strictObject({
      inputs: z
        .record(z.string(), manualInputSchema)
        .superRefine((inputs, context) => {
          for (const name of Object.keys(inputs)) {
            if (!variableNamePattern.test(name)) {
              context.addIssue({
                code: 'custom',
                path: [name],
                message: `'${name}' is not a valid input name`,
                params: {
                  code: 'invalid_name',
                  hint: 'inputs become variables: start with a letter or _, then letters, digits or _',
                  atKey: true,
                },
              });
            }
          }
        })
        .optional()
        .meta({ description: 'Inputs by name; each becomes a variable (${NAME}) of the run.' }),
    })
    .meta({ description: 'Runs started by a person (CLI, API), with inputs.' }),
);

/** `triggers:`: what starts the pipeline. */
export const triggersSchema = z
  .strictObject({
    push: pushTriggerSchema.optional(),
    pull_request: pullRequestTriggerSchema.optional(),
    schedule: z.array(scheduleEntrySchema).min(1).optional().meta({ description: 'Cron schedules.' }),
    manual: manualTriggerSchema.optional(),
  })
  .meta({ description: 'What starts the pipeline: push, pull_request, schedule, manual (docs/triggers.md).' });

interface ConcurrencyObject {
  max_parallel?: number;
  group?: string;
  cancel_in_progress?: boolean;
}

/** `concurrency:`: jobs of a run at once, and the group runs of which take turns. */
export const concurrencySchema = z
  .union([
    z
      .string()
      .min(1)
      .max(200)
      .transform((group) => ({ group }) as ConcurrencyObject),
    z.strictObject({
      max_parallel: z
        .int()
        .min(1)
        .max(1000)
        .optional()
        .meta({ description: 'At most this many jobs of a run at once.' }),
      group: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .meta({ description: 'Runs in the same group run one at a time, e.g. "deploy-${CONVEYOR_BRANCH}".' }),
      cancel_in_progress: z
        .boolean()
        .optional()
        .meta({ description: 'A newer run in the group cancels the running one (else it waits).', default: false }),
    }),
  ])
  .meta({ description: 'Jobs of a run at once (max_parallel), and a concurrency group (GitHub Actions semantics).' });

/** A checkout sub-path: relative to /workspace, inside it. */
const checkoutPathSchema = z
  .string()
  .superRefine((path, context) => {
    const problem = checkWorkspacePath(path);
    if (problem) {
      context.addIssue({
        code: 'custom',
        message: problem.replace('artifact paths are', 'checkout paths are'),
        params: { code: 'unsafe_path', hint: 'write a directory relative to /workspace, e.g. path: src/app' },
      });
    }
  })
  .meta({ description: 'Directory under /workspace the sources go to (default: /workspace itself).' });

const depthSchema = z
  .int()
  .min(0)
  .max(100_000)
  .meta({ description: 'Also give the job a .git with this many commits of history (0: all of it).' });

/** A job's `checkout:`: false skips the sources, an object places them. */
export const jobCheckoutSchema = z
  .union([z.boolean(), z.strictObject({ path: checkoutPathSchema.optional(), depth: depthSchema.optional() })], {
    error: 'expected true, false or {path, depth}',
  })
  .meta({ description: 'false: the job starts with an empty /workspace; {path, depth}: where and how much history.' });

/** The pipeline's `checkout:`: defaults for every job, and what the run's one source archive holds. */
export const pipelineCheckoutSchema = z
  .union(
    [
      z.boolean(),
      z.strictObject({
        submodules: z
          .boolean()
          .optional()
          .meta({ description: 'Include submodules in the source archive.', default: false }),
        path: checkoutPathSchema.optional(),
        depth: depthSchema.optional(),
      }),
    ],
    { error: 'expected true, false or {submodules, path, depth}' },
  )
  .meta({ description: 'Defaults for every job’s checkout; submodules: true puts submodules in the source archive.' });

/** `triggers:` as the schema leaves it. */
export type TriggersInput = z.output<typeof triggersSchema>;
/** `concurrency:` as the schema leaves it. */
export type ConcurrencyInput = z.output<typeof concurrencySchema>;
/** A job's `checkout:` as the schema leaves it. */
export type JobCheckoutInput = z.output<typeof jobCheckoutSchema>;
/** The pipeline's `checkout:` as the schema leaves it. */
export type PipelineCheckoutInput = z.output<typeof pipelineCheckoutSchema>;
