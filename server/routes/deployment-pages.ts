/**
 * The Deployments pages (server/web/deployment-page.ts) and their control forms, for signed-in browsers. A form
 * goes through the same path as the API (server/deployment-control.ts) with `channel: "web"`: the role is checked
 * per environment, then the workflow's update validator decides; a refusal is shown on the page (409) and changes
 * nothing.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listDeployments } from '../../client/deployments';
import { deploymentWorkflowId } from '../../deploy/names';
import type { RouteArea } from '../app';
import {
  allowedControls,
  controlRoles,
  deploymentControls,
  deploymentStatus,
  sendDeploymentControl,
} from '../deployment-control';
import { DeploymentWatcher } from '../deployment-watch';
import { HttpError } from '../http-errors';
import { openEventStream } from '../sse';
import { deploymentFingerprint, deploymentPage, deploymentsPage, type DeploymentRow } from '../web/deployment-page';
import { notFoundPage, sendPage, viewerOf } from './run-pages';
import { deploymentParams } from './deployments-schemas';

const formBody = z
  .object({ gate: z.string().max(100).optional(), comment: z.string().max(1000).optional() })
  .optional();

export const deploymentPageRoutes: RouteArea = async (plainApp, { context }) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  const environmentOf = (request: { params: unknown }) => (request.params as { environment?: string }).environment;

  app.get(
    '/deployments',
    { config: { access: { role: 'viewer', anywhere: true, page: true } }, schema: { hide: true } },
    async (request, reply) => {
      const viewer = viewerOf(request);
      const access = context.settings().access;
      const listed = (await listDeployments(context.client)).filter((d) =>
        access.allows(viewer.identity.user, 'viewer', d.environment),
      );
      const rows: DeploymentRow[] = await Promise.all(
        listed.map(async (d) => ({
          ...d,
          status: await deploymentStatus(context.client, d.service, d.environment).catch(() => undefined),
        })),
      );
      return sendPage(reply, deploymentsPage({ viewer, rows }));
    },
  );

  const show = async (
    request: Parameters<typeof viewerOf>[0],
    service: string,
    environment: string,
    problem?: { status: number; message: string },
  ) => {
    const viewer = viewerOf(request);
    const status = await deploymentStatus(context.client, service, environment);
    return {
      status: problem?.status ?? 200,
      body: deploymentPage({
        viewer,
        status,
        allowed: allowedControls(context.settings().access, viewer.identity.user, environment),
        temporalUrl: context.temporalUiUrl(deploymentWorkflowId(service, environment)),
        problem: problem?.message,
      }),
    };
  };

  app.get(
    '/deployments/:service/:environment',
    {
      config: { access: { role: 'viewer', environment: environmentOf, page: true } },
      schema: { hide: true, params: deploymentParams },
    },
    async (request, reply) => {
      const { service, environment } = request.params;
      try {
        const shown = await show(request, service, environment);
        return sendPage(reply, shown.body, shown.status);
      } catch (error) {
        if (!(error instanceof HttpError) || error.statusCode !== 404) throw error;
        const back = { href: '/deployments', label: 'All deployments' };
        return sendPage(reply, notFoundPage(viewerOf(request), error.message, back), 404);
      }
    },
  );

  // The page's live updates: an event `changed` (with the new fingerprint) whenever what the page shows changed.
  const watcher = new DeploymentWatcher(context.client);
  app.get(
    '/deployments/:service/:environment/events',
    {
      config: { access: { role: 'viewer', environment: environmentOf, page: true } },
      schema: { hide: true, params: deploymentParams },
    },
    async (request, reply) => {
      const { service, environment } = request.params;
      const stream = openEventStream(request, reply);
      let sent: string | undefined;
      const stop = watcher.watch(service, environment, (status) => {
        const fingerprint = deploymentFingerprint(status);
        if (fingerprint === sent) return;
        sent = fingerprint;
        stream.send('changed', { fingerprint });
      });
      await stream.done;
      stop();
    },
  );

  for (const control of deploymentControls) {
    app.post(
      `/deployments/:service/:environment/${control}`,
      {
        config: { access: { role: controlRoles[control], environment: environmentOf, page: true } },
        schema: { hide: true, params: deploymentParams, body: formBody },
      },
      async (request, reply) => {
        const { service, environment } = request.params;
        try {
          await sendDeploymentControl(context.client, context.settings().access, {
            identity: request.identity!,
            channel: 'web',
            service,
            environment,
            control,
            gate: request.body?.gate || undefined,
            comment: request.body?.comment || undefined,
          });
          request.log.info({ service, environment, control, user: request.identity!.user }, 'deployment control (web)');
          return reply.redirect(`/deployments/${encodeURIComponent(service)}/${encodeURIComponent(environment)}`, 303);
        } catch (error) {
          if (!(error instanceof HttpError) || error.statusCode !== 409) throw error;
          const shown = await show(request, service, environment, { status: 409, message: error.body.message });
          return sendPage(reply, shown.body, shown.status);
        }
      },
    );
  }
};
