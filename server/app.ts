/**
 * `conveyor serve`: the control plane's one HTTP server (DESIGN.md §8a, docs/control-plane.md). Fastify with zod
 * schemas for every request and response, an OpenAPI document at `/api/openapi.json`, one plugin per route area,
 * and the auth plugin every route declares it needs.
 *
 * Adding an area (webhooks, alerts, …) is one file in `server/routes/` exporting a Fastify plugin, and one line in
 * {@link routeAreas}.
 */
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { authPlugin } from './auth';
import type { ServerContext } from './context';
import { HttpError, type ErrorBody } from './http-errors';
import { deploymentRoutes } from './routes/deployments';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { openApiRoutes } from './routes/openapi';
import { runPageRoutes } from './routes/run-pages';
import { runRoutes } from './routes/runs';
import { slackRoutes } from './routes/slack';
import { webRoutes } from './routes/web';
import { RunNotFoundError, RunStateError } from '../client/run-errors';

/** A route area: a Fastify plugin given the server's context. */
export type RouteArea = FastifyPluginAsync<{ context: ServerContext }>;

/** Every route area, registered in this order. */
export const routeAreas: RouteArea[] = [
  openApiRoutes,
  healthRoutes,
  metricsRoutes,
  runRoutes,
  deploymentRoutes,
  slackRoutes,
  webRoutes,
  runPageRoutes,
];

/** Builds the server (not yet listening). */
export async function buildServer(
  context: ServerContext,
  options: { logger?: FastifyServerOptions['logger'] } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // Request logs show method, URL and status; headers (tokens, cookies) are never logged (server/serve.ts).
    bodyLimit: 2 * 1024 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-frame-options', 'DENY');
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header(
        'content-security-policy',
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
          "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
    }
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    context.metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Conveyor control plane',
        version: '1',
        description:
          'Runs, deployments, approvals, health and metrics. Authenticate with "Authorization: Bearer <token>".',
      },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
      security: [{ token: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(authPlugin, { settings: context.settings });
  for (const area of routeAreas) await app.register(area, { context });
  return app;
}

/** Maps any error to a status and an {@link ErrorBody}. */
function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) return { status: error.statusCode, body: error.body };
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as { validationContext?: string }).validationContext ?? 'body';
    const issues = error.validation.map((issue) => {
      const where = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return { path: where ? `${context}.${where}` : context, message: issue.message ?? 'invalid' };
    });
    return {
      status: 400,
      body: { error: 'bad_request', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues },
    };
  }
  if (error instanceof RunNotFoundError) return { status: 404, body: { error: 'not_found', message: error.message } };
  if (error instanceof RunStateError) return { status: 409, body: { error: 'conflict', message: error.message } };
  if (isResponseSerializationError(error)) {
    return { status: 500, body: { error: 'internal', message: 'the server produced an invalid response' } };
  }
  const statusCode = (error as { statusCode?: number }).statusCode;
  if (statusCode && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, body: { error: 'bad_request', message: (error as Error).message } };
  }
  return { status: 500, body: { error: 'internal', message: 'internal error; see the server log' } };
}
