/** `GET /metrics`: Prometheus text format (server/metrics.ts says where each figure comes from). Public. */
import type { RouteArea } from '../app';

export const metricsRoutes: RouteArea = async (app, { context }) => {
  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: { tags: ['health'], security: [], description: 'Prometheus metrics (text exposition format 0.0.4).' },
    },
    async (_request, reply) => {
      const text = await context.metrics.text();
      return reply.type(context.metrics.registry.contentType).send(text);
    },
  );
};
