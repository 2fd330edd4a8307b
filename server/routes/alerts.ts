/**
 * `POST /api/alerts` (docs/investigations.md, "Alerts"): Alertmanager's webhook body or the generic JSON form,
 * normalised to incidents; each alert opens an incident or joins the open one with its fingerprint, and is
 * investigated at once when an `investigations.auto_investigate` rule selects it. A malformed body is refused
 * with the reason and nothing is stored. Needs the `operator` role (Alertmanager sends the token with
 * `http_config.authorization`).
 */
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { openIncident } from '../../activities/investigation/open-incident';
import { autoInvestigates } from '../../config/investigations';
import { AlertBodyError, normaliseAlerts } from '../../investigate/alerts';
import type { RouteArea } from '../app';
import { badRequest, responses } from '../http-errors';

const acceptedSchema = z
  .object({
    received: z.number().int(),
    incidents: z.array(
      z.object({
        id: z.string(),
        joined: z.boolean().meta({ description: 'True when the alert joined an incident that was already open.' }),
        investigating: z.boolean(),
      }),
    ),
    ignored: z.number().int().meta({ description: "Alerts with status 'resolved' (recorded by Alertmanager only)." }),
  })
  .meta({ id: 'AlertsAccepted' });

export const alertRoutes: RouteArea = async (plainApp, { context }) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  app.post(
    '/api/alerts',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags: ['incidents'],
        summary: "Receive alerts (Alertmanager's webhook format, or the generic form)",
        body: z.unknown(),
        response: responses({ 202: acceptedSchema }, [400, 401, 403]),
      },
    },
    async (request, reply) => {
      let signals;
      try {
        signals = normaliseAlerts(request.body, new Date().toISOString());
      } catch (error) {
        if (error instanceof AlertBodyError) throw badRequest(error.message);
        throw error;
      }
      const rules = context.settings().file.investigations;
      const firing = signals.filter((signal) => signal.status !== 'resolved');
      const incidents = [];
      // One at a time: alerts of one group join the incident the first of them opened.
      for (const signal of firing) {
        const investigate = autoInvestigates(rules, signal);
        const opened = await openIncident(context.client, {
          signal,
          taskQueue: context.config.taskQueues.workflows,
          investigate,
        });
        incidents.push({ id: opened.incidentId, joined: opened.joined, investigating: investigate });
      }
      request.log.info({ received: signals.length, user: request.identity?.user }, 'alerts received');
      return reply.code(202).send({ received: signals.length, incidents, ignored: signals.length - firing.length });
    },
  );
};
