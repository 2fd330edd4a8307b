/**
 * `GET /healthz` (the process answers) and `GET /readyz` (Temporal and the store answer too), for load balancers
 * and `conveyor dev status`. Both are public and say nothing secret.
 */
import { z } from 'zod';
import type { RouteArea } from '../app';
import { withDeadline } from '../deadline';
import { responses } from '../http-errors';

const checkSchema = z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() });
const readySchema = z
  .object({ status: z.enum(['ready', 'unavailable']), checks: z.record(z.string(), checkSchema) })
  .meta({ id: 'Readiness' });

export const healthRoutes: RouteArea = async (app, { context }) => {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { tags: ['health'], security: [], response: responses({ 200: z.object({ status: z.literal('ok') }) }) },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        security: [],
        description: 'Checks that Temporal and the store answer (each within 2 s).',
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, z.output<typeof checkSchema>> = Object.fromEntries(
        await Promise.all(
          Object.entries(context.readiness).map(async ([name, check]) => {
            const started = performance.now();
            try {
              await withDeadline(check(), 2000);
              return [name, { ok: true, ms: Math.round(performance.now() - started) }] as const;
            } catch (error) {
              const ms = Math.round(performance.now() - started);
              return [name, { ok: false, ms, error: (error as Error).message }] as const;
            }
          }),
        ),
      );
      const ready = Object.values(checks).every((check) => check.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
    },
  );
};
