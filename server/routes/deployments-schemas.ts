/**
 * Request and response schemas of the deployments API (server/routes/deployments.ts); they also make the OpenAPI
 * document. The status mirrors `conveyor deploy status --json` (workflows/deployment-messages.ts).
 */
import { z } from 'zod';
import { deployNamePattern, maxDeployNameLength } from '../../deploy/spec-schema';

const deployName = (what: string) =>
  z
    .string()
    .max(maxDeployNameLength)
    .regex(deployNamePattern, `a ${what} name is a lower-case letter, then lower-case letters, digits or -`);

export const deploymentParams = z.object({
  service: deployName('service').meta({ description: 'The service, e.g. web.' }),
  environment: deployName('environment').meta({ description: 'The environment, e.g. production.' }),
});

const comment = z.string().max(1000).optional().meta({ description: 'Why, kept in the audit trail.' });

export const gateBody = z
  .strictObject({
    gate: z.string().min(1).max(100).optional().meta({ description: 'The gate (default: the one open now).' }),
    comment,
  })
  .default({});

export const promoteBody = z
  .strictObject({
    full: z.boolean().default(false).meta({ description: 'Every remaining step up to the next approval gate.' }),
    comment,
  })
  .default({ full: false });

export const actorBody = z.strictObject({ comment }).default({});

export const rollbackBody = z
  .strictObject({
    to: z.string().min(1).max(128).optional().meta({ description: 'A version from the history (default: previous).' }),
    comment,
  })
  .default({});

export const controlAcceptedSchema = z
  .object({
    message: z.string().meta({ description: "What happened, e.g. approved gate 'prod' (1 of 1)." }),
    state: z.string().meta({ description: "The deployment's state right after the control." }),
  })
  .meta({ id: 'ControlAccepted' });

const links = z.object({
  self: z.string(),
  web: z.string(),
  temporal: z.string(),
});

export const deploymentListSchema = z
  .object({
    deployments: z.array(
      z.object({
        service: z.string(),
        environment: z.string(),
        state: z.string(),
        running: z.boolean(),
        workflowId: z.string(),
        links,
      }),
    ),
  })
  .meta({ id: 'DeploymentList' });

export const listDeploymentsQuery = z.object({
  all: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((value) => value === '1' || value === 'true')
    .meta({ description: 'Include destroyed deployments.' }),
});

const release = z.looseObject({ revision: z.number(), version: z.string(), image: z.string(), replicas: z.number() });
const actor = z.looseObject({ user: z.string(), channel: z.string().optional(), comment: z.string().optional() });

export const deploymentStatusSchema = z
  .looseObject({
    service: z.string(),
    environment: z.string(),
    state: z.string(),
    strategy: z.string().nullable(),
    stable: release.nullable(),
    canary: release.extend({ weight: z.number() }).nullable(),
    step: z
      .looseObject({ index: z.number(), kind: z.string(), description: z.string(), until: z.string().optional() })
      .nullable(),
    weights: z.object({ stable: z.number(), canary: z.number() }),
    approvals: z.array(
      z.looseObject({
        gate: z.string(),
        user: z.string(),
        decision: z.string(),
        channel: z.string(),
        at: z.string(),
        comment: z.string().optional(),
        reason: z.string().optional(),
      }),
    ),
    gate: z
      .object({
        name: z.string(),
        approvers: z.array(z.string()),
        required: z.number(),
        approvedBy: z.array(z.string()),
        deadline: z.string(),
      })
      .nullable(),
    analysis: z.array(
      z.looseObject({
        at: z.string(),
        source: z.string(),
        verdict: z.string(),
        metrics: z.array(z.looseObject({ name: z.string(), verdict: z.string(), value: z.number().nullable() })),
      }),
    ),
    history: z.array(z.looseObject({ id: z.string(), version: z.string(), outcome: z.string() })),
    rollout: z
      .looseObject({ id: z.string(), version: z.string(), requestedBy: actor, steps: z.array(z.string()) })
      .nullable(),
    queue: z.array(z.looseObject({ id: z.string(), version: z.string() })),
    held: z.object({ by: z.string(), reason: z.string() }).nullable(),
    controls: z.array(
      z.looseObject({ control: z.string(), user: z.string(), channel: z.string(), outcome: z.string() }),
    ),
    /** What the caller may do here (the web view shows only these buttons). */
    allowed: z.array(z.string()).meta({ description: 'The controls the caller may send in this environment.' }),
    links,
  })
  .meta({ id: 'DeploymentStatus' });
