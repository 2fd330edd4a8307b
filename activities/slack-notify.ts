/**
 * Activities that keep an approval gate's Slack message in step with the gate (docs/control-plane.md#slack): the
 * deployment workflow posts it when the gate starts waiting and updates it when someone approves, when the gate is
 * decided from any channel, or when it times out. They run on the worker, so a message goes out and is settled even
 * while no `conveyor serve` runs, and the workflow keeps the message's reference durably.
 *
 * Without a bot token or a channel for the environment they do nothing and say so in their result.
 */
import { WebClient } from '@slack/web-api';
import type { SlackSettings } from '../config/slack';
import { settledGateMessage, waitingGateMessage, type GateFacts, type GateOutcome } from './slack-gate-message';

/** Where a posted message is (what `chat.update` needs). */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

export interface SlackActivityDeps {
  /** The `slack:` section as it is now (re-read per call, so a token or channel change needs no restart). */
  settings: () => SlackSettings | undefined;
  /** Where `CONVEYOR_SLACK_BOT_TOKEN` is read. */
  env?: NodeJS.ProcessEnv;
}

/** The activities, bound to their configuration. */
export function createSlackActivities(deps: SlackActivityDeps) {
  const connect = () => {
    const settings = deps.settings();
    const token = (deps.env ?? process.env).CONVEYOR_SLACK_BOT_TOKEN || settings?.bot_token;
    if (!settings || !token) return undefined;
    // Retries belong to Temporal's activity retry policy, not to the client as well.
    const client = new WebClient(token, {
      slackApiUrl: settings.api_url,
      retryConfig: { retries: 0 },
      timeout: 10_000,
    });
    return { client, settings };
  };
  const withLink = (facts: GateFacts, settings: SlackSettings): GateFacts =>
    settings.public_url
      ? {
          ...facts,
          link: `${settings.public_url.replace(/\/$/, '')}/deployments/${encodeURIComponent(facts.service)}/${encodeURIComponent(facts.environment)}`,
        }
      : facts;

  return {
    /** Posts the waiting gate's message to the environment's channel; null when Slack is not configured for it. */
    async announceGate(facts: GateFacts): Promise<SlackMessageRef | null> {
      const slack = connect();
      const channel = slack && (slack.settings.channels[facts.environment] ?? slack.settings.channels['*']);
      if (!slack || !channel) return null;
      const message = waitingGateMessage(withLink(facts, slack.settings));
      const answer = await slack.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
      if (!answer.ts || !answer.channel) throw new Error('Slack accepted the message but returned no ts');
      return { channel: answer.channel, ts: answer.ts };
    },

    /** Re-draws a still-waiting gate's message (e.g. after a first approval of several). */
    async refreshGate(input: { message: SlackMessageRef; facts: GateFacts }): Promise<void> {
      const slack = connect();
      if (!slack) return;
      const message = waitingGateMessage(withLink(input.facts, slack.settings));
      await slack.client.chat.update({ ...input.message, text: message.text, blocks: message.blocks });
    },

    /** Replaces the buttons with who decided and when (or that the gate timed out or closed). */
    async settleGate(input: { message: SlackMessageRef; facts: GateFacts; outcome: GateOutcome }): Promise<void> {
      const slack = connect();
      if (!slack) return;
      const message = settledGateMessage(withLink(input.facts, slack.settings), input.outcome);
      await slack.client.chat.update({ ...input.message, text: message.text, blocks: message.blocks });
    },
  };
}

/** The Slack activities' type, for workflow proxies (`import type` only). */
export type SlackActivities = ReturnType<typeof createSlackActivities>;
