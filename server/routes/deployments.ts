/**
 * The deployments API (docs/control-plane.md#deployments): list, status, and the controls — approve, reject,
 * promote, abort, pause, resume, rollback — each through the deployment workflow's update validators
 * (server/deployment-control.ts) with `channel: "api"`. Reading needs `viewer` in the environment, gates need
 * `approver`, the other controls `operator`.
 */
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { listDeployments } from '../../client/deployments';
import { deploymentWorkflowId } from '../../deploy/names';
import type { RouteArea } from '../app';
import {
  allowedControls,
  controlRoles,
  deploymentStatus,
  sendDeploymentControl,
  type ControlOptions,
  type DeploymentControl,
} from '../deployment-control';
import { responses } from '../http-errors';
import {
  actorBody,
  controlAcceptedSchema,
  deploymentListSchema,
  deploymentParams,
  deploymentStatusSchema,
  gateBody,
  listDeploymentsQuery,
  promoteBody,
  rollbackBody,
} from './deployments-schemas';

/** The environment a deployment route acts on (for the auth plugin's per-environment roles). */
const environmentOf = (request: FastifyRequest) => (request.params as { environment?: string }).environment;

/** Each control's request body. */
const bodies: Record<DeploymentControl, z.ZodType<ControlOptions>> = {
  approve: gateBody,
  reject: gateBody,
  promote: promoteBody,
  abort: actorBody,
  pause: actorBody,
  resume: actorBody,
  rollback: rollbackBody,
};

const summaries: Record<DeploymentControl, string> = {
  approve: 'Approve the open gate (or `gate`) as the caller',
  reject: 'Reject the open gate (or `gate`): the rollout rolls back',
  promote: 'Skip the current pause or analysis (`full`: every step up to the next gate)',
  abort: 'Abort the rollout: all traffic back to stable, the new version removed',
  pause: 'Hold the rollout after its current step',
  resume: 'Continue a held rollout',
  rollback: 'Go back to the previous version (or `to`)',
};

export const deploymentRoutes: RouteArea = async (plainApp, { context }) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  const links = (service: string, environment: string) => {
    const path = `${encodeURIComponent(service)}/${encodeURIComponent(environment)}`;
    return {
      self: `/api/deployments/${path}`,
      web: `/deployments/${path}`,
      temporal: context.temporalUiUrl(deploymentWorkflowId(service, environment)),
    };
  };

  app.get(
    '/api/deployments',
    {
      config: { access: { role: 'viewer', anywhere: true } },
      schema: {
        tags: ['deployments'],
        summary: 'Deployments in the environments the caller may view',
        querystring: listDeploymentsQuery,
        response: responses({ 200: deploymentListSchema }, [400, 401, 403]),
      },
    },
    async (request) => {
      const access = context.settings().access;
      const user = request.identity!.user;
      const found = await listDeployments(context.client, request.query.all);
      return {
        deployments: found
          .filter((deployment) => access.allows(user, 'viewer', deployment.environment))
          .map((deployment) => ({ ...deployment, links: links(deployment.service, deployment.environment) })),
      };
    },
  );

  app.get(
    '/api/deployments/:service/:environment',
    {
      config: { access: { role: 'viewer', environment: environmentOf } },
      schema: {
        tags: ['deployments'],
        summary: "A deployment's status: versions, weights, the open gate, approvals, analysis, history",
        params: deploymentParams,
        response: responses({ 200: deploymentStatusSchema }, [400, 401, 403, 404]),
      },
    },
    async (request) => {
      const { service, environment } = request.params;
      const status = await deploymentStatus(context.client, service, environment);
      const allowed = allowedControls(context.settings().access, request.identity!.user, environment);
      return { ...status, allowed: [...allowed], links: links(service, environment) };
    },
  );

  for (const control of Object.keys(bodies) as DeploymentControl[]) {
    app.post(
      `/api/deployments/:service/:environment/${control}`,
      {
        config: { access: { role: controlRoles[control], environment: environmentOf } },
        schema: {
          tags: ['deployments'],
          summary: summaries[control],
          params: deploymentParams,
          body: bodies[control],
          response: responses({ 200: controlAcceptedSchema }, [400, 401, 403, 404, 409]),
        },
      },
      async (request) => {
        const { service, environment } = request.params;
        const accepted = await sendDeploymentControl(context.client, context.settings().access, {
          identity: request.identity!,
          channel: request.csrfToken ? 'web' : 'api',
          service,
          environment,
          control,
          ...(request.body as ControlOptions),
        });
        request.log.info({ service, environment, control, user: request.identity!.user }, 'deployment control');
        return accepted;
      },
    );
  }
};
