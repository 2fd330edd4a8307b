/** The Runs and Run pages (server/web/) and their cancel and re-run forms, for signed-in browsers. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RunNotFoundError, RunStateError } from '../../client/run-errors';
import { requestCancel } from '../../client/run-control';
import { listRuns } from '../../client/runs';
import type { RouteArea } from '../app';
import { html } from '../web/html';
import { page, type Viewer } from '../web/layout';
import { runPage } from '../web/run-page';
import { runsPage } from '../web/runs-page';
import { rerunRun } from './runs';
import { listRunsQuery, runIdParams } from './runs-schemas';

/** The signed-in viewer of a page request. */
export function viewerOf(request: FastifyRequest): Viewer {
  return { identity: request.identity!, csrfToken: request.csrfToken ?? '' };
}

/** Sends an HTML page. */
export function sendPage(reply: FastifyReply, body: string, status = 200) {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

/** A page saying what was not found, with a way back. */
export function notFoundPage(viewer: Viewer, message: string, back: { href: string; label: string }): string {
  return page({
    title: 'Not found',
    viewer,
    body: html`<section class="card">
      <h1>Not found</h1>
      <p>${message}</p>
      <p><a href="${back.href}">${back.label}</a></p>
    </section>`,
  });
}

export const runPageRoutes: RouteArea = async (plainApp, { context }) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/runs',
    {
      config: { access: { role: 'viewer', page: true } },
      schema: { hide: true, querystring: listRunsQuery.extend({ status: z.string().optional() }) },
    },
    async (request, reply) => {
      const pipeline = request.query.pipeline || undefined;
      const status = ['running', 'success', 'failed', 'cancelled'].includes(request.query.status ?? '')
        ? request.query.status
        : undefined;
      const runs = await listRuns(context.client, { pipeline, status, limit: request.query.limit });
      return sendPage(reply, runsPage({ viewer: viewerOf(request), runs, filter: { pipeline, status } }));
    },
  );

  app.get(
    '/runs/:runId',
    { config: { access: { role: 'viewer', page: true } }, schema: { hide: true, params: runIdParams } },
    async (request, reply) => {
      const { runId } = request.params;
      const viewer = viewerOf(request);
      try {
        const [{ status }, definition] = await Promise.all([context.runs.read(runId), context.runs.definition(runId)]);
        const dependsOn = Object.fromEntries(definition.pipeline.jobs.map((job) => [job.name, job.dependsOn]));
        return sendPage(
          reply,
          runPage({
            viewer,
            runId,
            status,
            dependsOn,
            trigger: definition.trigger,
            rerunOf: definition.rerunOf,
            temporalUrl: context.temporalUiUrl(runId),
            canOperate: context.settings().access.allows(viewer.identity.user, 'operator'),
          }),
        );
      } catch (error) {
        if (!(error instanceof RunNotFoundError)) throw error;
        return sendPage(reply, notFoundPage(viewer, error.message, { href: '/runs', label: 'All runs' }), 404);
      }
    },
  );

  const formBody = z.object({ failed: z.string().optional() }).optional();

  app.post(
    '/runs/:runId/cancel',
    {
      config: { access: { role: 'operator', page: true } },
      schema: { hide: true, params: runIdParams, body: formBody },
    },
    async (request, reply) => {
      const { runId } = request.params;
      try {
        await requestCancel(context.client, runId);
        request.log.info({ runId, user: request.identity!.user }, 'run cancellation requested (web)');
      } catch (error) {
        // The run ended meanwhile: the page shows its final state.
        if (!(error instanceof RunStateError)) throw error;
      }
      return reply.redirect(`/runs/${encodeURIComponent(runId)}`, 303);
    },
  );

  app.post(
    '/runs/:runId/rerun',
    {
      config: { access: { role: 'operator', page: true } },
      schema: { hide: true, params: runIdParams, body: formBody },
    },
    async (request, reply) => {
      const { runId } = request.params;
      const failedOnly = request.body?.failed !== '0';
      const newRunId = await rerunRun(context, runId, failedOnly, request.identity!.user);
      request.log.info({ runId: newRunId, rerunOf: runId, user: request.identity!.user }, 'run re-run (web)');
      return reply.redirect(`/runs/${encodeURIComponent(newRunId)}`, 303);
    },
  );
};
