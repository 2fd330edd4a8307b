/**
 * The `slack:` section of `conveyor.config.yml`: where approval messages go and how Slack's requests are checked
 * (docs/control-plane.md).
 *
 * ```yaml
 * slack:
 *   channels: {production: C0PRODDEPLOY, '*': C0DEPLOYS}
 *   public_url: https://conveyor.example.com
 * ```
 *
 * The bot token and the signing secret are secrets: they come from `CONVEYOR_SLACK_BOT_TOKEN` and
 * `CONVEYOR_SLACK_SIGNING_SECRET` (or, for local setups, `bot_token` / `signing_secret` here).
 */
import { z } from 'zod';

export const slackSchema = z
  .strictObject({
    api_url: z
      .url()
      .default('https://slack.com/api/')
      .meta({ description: "Slack's Web API base URL (tests point it at a local receiver)." }),
    channels: z
      .record(z.string().min(1), z.string().min(1))
      .default({})
      .meta({ description: "Channel id per deployment environment; '*' is the default for the others." }),
    public_url: z
      .url()
      .optional()
      .meta({ description: 'How people reach the web view, for links in messages (default: the server address).' }),
    bot_token: z.string().optional().meta({ description: 'Prefer CONVEYOR_SLACK_BOT_TOKEN.' }),
    signing_secret: z.string().optional().meta({ description: 'Prefer CONVEYOR_SLACK_SIGNING_SECRET.' }),
  })
  .meta({ description: 'Slack approvals: channels per environment, Web API base URL, credentials.' });

/** The validated `slack:` section. */
export type SlackSettings = z.output<typeof slackSchema>;
