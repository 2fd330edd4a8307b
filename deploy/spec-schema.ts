/**
 * The `deploy:` block of a pipeline job (docs/deployments.md): what to run, where users reach it, how to check its
 * health, and how to roll a new version out. Validated once at the edge with the pipeline language's diagnostics
 * (line/column, did-you-mean, stable codes); `toDeploySpec` turns it into the normalised {@link DeploySpec} that
 * workflows and activities work on.
 */
import { z } from 'zod';
import { checkImageReference } from '../pipeline/image-reference';
import { durationSchema } from '../pipeline/duration-schema';
import { builtinMetricNames } from './metrics';

/** Service and environment names: a lowercase letter, then lowercase letters, digits or `-`; at most 40. */
export const deployNamePattern = /^[a-z][a-z0-9-]*$/;
/** Longest service or environment name. */
export const maxDeployNameLength = 40;

/** A duration field in whole seconds (`90`, `"90s"`, `"15m"`, `"1h30m"`) within `[min, max]`. */
function duration(min: number, max: number, what: string) {
  return durationSchema({ min, max, default: min }, what);
}

function name(what: string) {
  return z
    .string()
    .max(maxDeployNameLength)
    .superRefine((value, context) => {
      if (!deployNamePattern.test(value)) {
        context.addIssue({
          code: 'custom',
          message: `'${value}' is not a valid ${what} name`,
          params: {
            code: 'invalid_name',
            hint: `${what} names start with a lowercase letter, then lowercase letters, digits or '-' (at most ${maxDeployNameLength})`,
          },
        });
      }
    });
}

const portSchema = z.int().min(1).max(65535);
const hostPortSchema = z.int().min(1024).max(65535);

function image() {
  return z.string().superRefine((value, context) => {
    const problem = checkImageReference(value);
    if (problem) {
      context.addIssue({
        code: 'custom',
        message: problem,
        params: { code: 'invalid_image', hint: 'write a reference such as conveyor/web:1.2.3' },
      });
    }
  });
}

const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean value' });

/** Who may approve a gate, how many must, and what happens when nobody does in time. */
export const approvalSchema = z
  .strictObject({
    name: name('gate').optional().meta({ description: 'Gate name shown to approvers (default from its place).' }),
    approvers: z
      .array(z.string().regex(/^(group:)?[A-Za-z0-9_.@-]+$/, 'expected a user name or group:NAME'))
      .min(1)
      .meta({ description: 'Users, and groups as group:NAME (groups are defined in conveyor.config.yml).' }),
    required: z.int().min(1).max(20).optional().meta({ description: 'Distinct approvals needed.', default: 1 }),
    timeout: duration(1, 30 * 86_400, 'the approval timeout')
      .optional()
      .meta({ default: 86_400 }),
    on_timeout: z.enum(['reject', 'approve']).optional().meta({ default: 'reject' }),
  })
  .meta({ description: 'An approval gate.' });

/** One metric of an analysis, with its conditions. */
export const metricSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(60)
      .meta({
        description: `A built-in router metric (${builtinMetricNames.join(', ')}) or any name with prometheus:.`,
      }),
    prometheus: z.string().min(1).optional().meta({
      description: 'A PromQL query; {{service}}, {{environment}}, {{track}}, {{version}}, {{window}} are replaced.',
    }),
    max: z.number().optional().meta({ description: 'Fail when the canary value is above this.' }),
    min: z.number().optional().meta({ description: 'Fail when the canary value is below this.' }),
    max_ratio_to_stable: z.number().positive().optional().meta({
      description: 'Fail when canary / stable over the same window is above this (and the difference is significant).',
    }),
  })
  .superRefine((metric, context) => {
    if (metric.max === undefined && metric.min === undefined && metric.max_ratio_to_stable === undefined) {
      context.addIssue({
        code: 'custom',
        message: `metric '${metric.name}' has no condition`,
        params: { code: 'schema', hint: 'add max:, min: or max_ratio_to_stable:' },
      });
    }
    if (!metric.prometheus && !(builtinMetricNames as readonly string[]).includes(metric.name)) {
      context.addIssue({
        code: 'custom',
        path: ['name'],
        message: `'${metric.name}' is not a built-in metric`,
        params: {
          code: 'schema',
          hint: `use one of ${builtinMetricNames.join(', ')}, or give a prometheus: query for a metric of your own`,
        },
      });
    }
    if (
      metric.prometheus &&
      metric.max_ratio_to_stable !== undefined &&
      !/\{\{(track|version)\}\}/.test(metric.prometheus)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['prometheus'],
        message: 'a query compared with stable must mention {{track}} or {{version}}',
        params: {
          code: 'schema',
          hint: 'select the series by track, e.g. conveyor_router_requests_total{track="{{track}}"}',
        },
      });
    }
  })
  .meta({ description: 'A metric and its conditions (max, min, max_ratio_to_stable).' });

const analysisFields = {
  interval: duration(1, 3600, 'the analysis interval').optional().meta({ default: 10 }),
  min_requests: z.int().min(0).max(1_000_000).optional().meta({
    description: 'Fewer requests to the canary in a window make the measurement inconclusive.',
    default: 20,
  }),
  failure_limit: z.int().min(0).max(100).optional().meta({
    description: 'Failed measurements tolerated; one more fails the analysis.',
    default: 0,
  }),
  inconclusive_limit: z.int().min(0).max(100).optional().meta({
    description: 'Inconclusive measurements tolerated; one more pauses the rollout for a human.',
    default: 3,
  }),
  metrics: z.array(metricSchema).min(1),
};

/** The background analysis of a canary: runs from the first non-zero weight to the end. */
export const backgroundAnalysisSchema = z.strictObject(analysisFields).meta({
  description: 'Background analysis for the whole rollout.',
});

/** An analysis step: `count` measurements, one per interval. */
export const analysisStepSchema = z
  .strictObject({
    ...analysisFields,
    count: z.int().min(1).max(1000).optional().meta({ default: 1 }),
    metrics: z.array(metricSchema).min(1).optional().meta({ description: 'Default: the background metrics.' }),
  })
  .meta({ description: 'Measure `count` times, once per interval.' });

const pauseSchema = z.union(
  [duration(0, 30 * 86_400, 'a pause'), z.strictObject({}).meta({ description: 'An empty pause waits for promote.' })],
  { error: 'expected a duration ("30s") or {} (wait for promote)' },
);

/** One canary step: exactly one of set_weight, pause, analysis, approval. */
export const canaryStepSchema = z
  .strictObject({
    set_weight: z.int().min(0).max(100).optional().meta({ description: 'Share of traffic for the canary (%).' }),
    pause: pauseSchema.optional(),
    analysis: analysisStepSchema.optional(),
    approval: approvalSchema.optional(),
  })
  .superRefine((step, context) => {
    const kinds = Object.keys(step).filter((key) => step[key as keyof typeof step] !== undefined);
    if (kinds.length !== 1) {
      context.addIssue({
        code: 'custom',
        message: kinds.length === 0 ? 'the step is empty' : `a step does one thing, got ${kinds.join(' and ')}`,
        params: { code: 'schema', hint: 'write one of set_weight:, pause:, analysis:, approval: per step' },
      });
    }
  });

const healthSchema = z
  .strictObject({
    http: z
      .strictObject({
        path: z.string().startsWith('/').optional().meta({ default: '/' }),
        expect_status: z.int().min(100).max(599).optional().meta({ default: 200 }),
        expect_body: z.string().optional().meta({ description: 'A substring the body must contain.' }),
      })
      .optional(),
    tcp: z.strictObject({}).optional().meta({ description: 'The port accepts a connection.' }),
    command: z.array(z.string()).min(1).optional().meta({ description: 'Run in the container; exit 0 is healthy.' }),
    interval: duration(1, 600, 'the health check interval').optional().meta({ default: 10 }),
    timeout: duration(1, 600, 'the health check timeout').optional().meta({ default: 5 }),
    success_threshold: z.int().min(1).max(100).optional().meta({ default: 3 }),
    failure_threshold: z.int().min(1).max(100).optional().meta({ default: 2 }),
    start_timeout: duration(1, 3600, 'the start timeout').optional().meta({ default: 300 }),
  })
  .superRefine((check, context) => {
    const kinds = (['http', 'tcp', 'command'] as const).filter((kind) => check[kind] !== undefined);
    if (kinds.length > 1) {
      context.addIssue({
        code: 'custom',
        message: `a health check is one of http, tcp or command, got ${kinds.join(' and ')}`,
        params: { code: 'schema', hint: 'keep one of http:, tcp:, command:' },
      });
    }
  });

/** The whole `deploy:` block. */
export const deploySchema = z
  .strictObject({
    service: name('service').meta({ description: 'Service name: [a-z][a-z0-9-]*, at most 40 characters.' }),
    environment: name('environment').optional().meta({ default: 'production' }),
    version: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/, 'expected letters, digits, and . _ + -')
      .optional()
      .meta({ description: "The version's name (default: the image's tag)." }),
    image: image().optional().meta({ description: 'The image to run (or build one with build_image).' }),
    build_image: z
      .strictObject({
        context: z
          .string()
          .min(1)
          .meta({ description: 'The artifact, of a job this one needs, that is the build context.' }),
        dockerfile: z
          .string()
          .min(1)
          .optional()
          .meta({ default: 'Dockerfile', description: "The Dockerfile's path inside the artifact." }),
        tag: image().meta({ description: 'The tag given to the built image.' }),
      })
      .optional(),
    port: portSchema.meta({ description: 'The port the service listens on inside its container.' }),
    replicas: z.int().min(1).max(20).optional().meta({ default: 1 }),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a variable name'), scalar).optional(),
    router: z.strictObject({
      kind: z.enum(['builtin', 'nginx']).optional().meta({ default: 'builtin' }),
      port: hostPortSchema.meta({ description: 'Users reach the service on 127.0.0.1:PORT.' }),
      sticky: z.boolean().optional().meta({ default: false }),
    }),
    health_check: healthSchema.optional(),
    strategy: z.enum(['rolling', 'blue_green', 'canary']).optional().meta({ default: 'rolling' }),
    approval: approvalSchema.optional().meta({ description: 'A gate before the rollout starts.' }),
    rolling: z
      .strictObject({
        batch_size: z.int().min(1).max(20).optional().meta({ default: 1 }),
        max_unavailable: z.int().min(0).max(20).optional().meta({ default: 0 }),
        max_surge: z.int().min(0).max(20).optional().meta({ default: 1 }),
        drain_timeout: duration(0, 3600, 'the drain timeout').optional().meta({ default: 120 }),
      })
      .optional(),
    blue_green: z
      .strictObject({
        preview_port: hostPortSchema.optional(),
        smoke: z
          .strictObject({
            image: image(),
            script: z.union([z.string(), z.array(z.string()).min(1)]).transform((s) => (Array.isArray(s) ? s : [s])),
            timeout: duration(1, 3600, 'the smoke test timeout').optional().meta({ default: 300 }),
          })
          .optional(),
        approval: approvalSchema.optional(),
        monitor: duration(0, 86_400, 'the monitoring window').optional().meta({ default: 0 }),
        scale_down_delay: duration(0, 86_400, 'the scale-down delay').optional().meta({ default: 30 }),
        drain_timeout: duration(0, 3600, 'the drain timeout').optional().meta({ default: 120 }),
        analysis: backgroundAnalysisSchema.optional().meta({
          description: 'Analysis during the monitoring window; ratios compare with the old colour before the switch.',
        }),
      })
      .optional(),
    canary: z
      .strictObject({
        replicas: z.int().min(1).max(20).optional().meta({ default: 1 }),
        analysis: backgroundAnalysisSchema.optional(),
        steps: z.array(canaryStepSchema).min(1).optional(),
        drain_timeout: duration(0, 3600, 'the drain timeout').optional().meta({ default: 120 }),
      })
      .optional(),
  })
  .superRefine((spec, context) => {
    const strategy = spec.strategy ?? 'rolling';
    for (const block of ['rolling', 'blue_green', 'canary'] as const) {
      if (spec[block] !== undefined && block !== strategy) {
        context.addIssue({
          code: 'custom',
          path: [block],
          message: `${block}: is set but strategy is ${strategy}`,
          params: { code: 'schema', hint: `set strategy: ${block}, or remove the ${block}: block`, atKey: true },
        });
      }
    }
    if (spec.image === undefined && spec.build_image === undefined) {
      context.addIssue({
        code: 'custom',
        message: "missing required field 'image'",
        params: {
          code: 'schema',
          hint: 'name the image to run (image: conveyor/web:1.2.3) or build one (build_image:)',
        },
      });
    }
    const rolling = spec.rolling;
    if (rolling && (rolling.max_surge ?? 1) + (rolling.max_unavailable ?? 0) < 1) {
      context.addIssue({
        code: 'custom',
        path: ['rolling'],
        message: 'max_surge and max_unavailable are both 0: no instance could ever be replaced',
        params: {
          code: 'schema',
          hint: 'allow max_surge: 1 (start the new instance first) or max_unavailable: 1',
          atKey: true,
        },
      });
    }
    for (const [index, step] of (spec.canary?.steps ?? []).entries()) {
      if (step.analysis && !step.analysis.metrics && !spec.canary?.analysis) {
        context.addIssue({
          code: 'custom',
          path: ['canary', 'steps', index, 'analysis'],
          message: 'the analysis step has no metrics',
          params: { code: 'schema', hint: 'list metrics: here, or define canary.analysis for it to inherit them' },
        });
      }
    }
    const preview = spec.blue_green?.preview_port;
    if (preview !== undefined && preview === spec.router.port) {
      context.addIssue({
        code: 'custom',
        path: ['blue_green', 'preview_port'],
        message: `preview_port ${preview} is the router's port`,
        params: { code: 'schema', hint: 'choose a different port for the preview of the idle colour' },
      });
    }
  })
  .meta({ description: 'A deployment: roll a version out to Docker containers behind a traffic router.' });

/** The `deploy:` block as the schema leaves it. */
export type DeployInput = z.output<typeof deploySchema>;
