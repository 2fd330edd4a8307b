/**
 * `POST /slack/interactions`: Slack's interactivity request URL. Public to the auth plugin because Slack proves
 * itself with a request signature instead of a token (server/slack/signature.ts); the Slack user id must map to a
 * Conveyor user (`access.users.NAME.slack`), whose roles the action then needs like any other channel.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteArea } from '../app';
import { HttpError, responses } from '../http-errors';
import { blockActionsSchema, replyEphemeral, slackActionHandlers } from '../slack/interactions';
import { registerGateActions } from '../slack/gate-actions';
import { slackRequestProblem } from '../slack/signature';

registerGateActions();

export const slackRoutes: RouteArea = async (plainApp, { context }) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  // The signature covers the raw body, so this area reads form bodies as text and parses them itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    '/slack/interactions',
    {
      config: { access: 'public' },
      schema: {
        tags: ['slack'],
        summary: "Slack's interactivity requests (button presses), signed with the app's signing secret",
        security: [],
        headers: z.looseObject({
          'x-slack-signature': z.string().optional(),
          'x-slack-request-timestamp': z.string().optional(),
        }),
        response: responses({ 200: z.object({ ok: z.boolean() }) }, [400, 401, 503]),
      },
    },
    async (request) => {
      const signingSecret = context.env.CONVEYOR_SLACK_SIGNING_SECRET || context.settings().file.slack?.signing_secret;
      if (!signingSecret) {
        throw new HttpError(503, {
          error: 'unavailable',
          message: 'Slack is not configured: set CONVEYOR_SLACK_SIGNING_SECRET (or slack.signing_secret)',
        });
      }
      const body = typeof request.body === 'string' ? request.body : '';
      const problem = slackRequestProblem({
        signingSecret,
        timestamp: request.headers['x-slack-request-timestamp'],
        signature: request.headers['x-slack-signature'],
        body,
        now: Math.floor(Date.now() / 1000),
      });
      if (problem) {
        request.log.warn({ problem }, 'Slack request refused');
        throw new HttpError(401, { error: 'unauthorized', message: problem });
      }
      const raw = new URLSearchParams(body).get('payload');
      let json: unknown;
      try {
        json = raw ? JSON.parse(raw) : undefined;
      } catch {
        json = undefined;
      }
      if ((json as { type?: unknown } | undefined)?.type !== 'block_actions') return { ok: true };
      const parsed = blockActionsSchema.safeParse(json);
      if (!parsed.success) {
        throw new HttpError(400, { error: 'bad_request', message: 'not a block_actions payload Conveyor understands' });
      }
      const payload = parsed.data;
      const identity = context.settings().access.identifySlackUser(payload.user.id);
      const action = payload.actions[0]!;
      let reply: string;
      if (!identity) {
        reply =
          `Your Slack user (${payload.user.id}) is not mapped to a Conveyor user, so nothing was done. ` +
          `Ask an administrator to add \`slack: ${payload.user.id}\` to your user in conveyor.config.yml.`;
      } else {
        const handler = slackActionHandlers.get(action.action_id);
        reply = handler
          ? await handler(
              {
                actionId: action.action_id,
                value: action.value ?? '',
                identity,
                slackUserId: payload.user.id,
                payload,
              },
              context,
            )
          : `Conveyor does not know the button '${action.action_id}'; nothing was done.`;
      }
      request.log.info({ slackUser: payload.user.id, user: identity?.user, action: action.action_id }, 'Slack action');
      // Slack wants the acknowledgement within 3 s; the reply goes out beside it.
      void replyEphemeral(payload.response_url, reply).catch((error: unknown) =>
        request.log.warn({ err: error }, 'could not send the ephemeral reply to Slack'),
      );
      return { ok: true };
    },
  );
};
