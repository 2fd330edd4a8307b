/**
 * The gate-message activities through `@slack/web-api` against the local Slack stand-in: the message goes to the
 * environment's channel with the bot token, carries the facts and two buttons, and is settled without buttons.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { slackSchema } from '../../config/slack';
import { gateActions, type GateFacts } from '../../activities/slack-gate-message';
import { createSlackActivities } from '../../activities/slack-notify';
import { SlackReceiver } from '../helpers/slack-receiver';

let slack: SlackReceiver;

const facts: GateFacts = {
  service: 'web',
  environment: 'production',
  gate: { name: 'prod', approvers: ['alice', 'group:release'], required: 1, deadline: '2030-01-01T10:00:00.000Z' },
  stable: { version: 'v1' },
  canary: { version: 'v2', weight: 20 },
  metrics: [
    { name: 'error_rate', canary: 0.004, stable: 0.002, condition: 'max 0.05', verdict: 'pass' },
    { name: 'latency_p95', canary: 41.5, stable: 40.2, condition: 'max_ratio_to_stable 1.5', verdict: 'pass' },
  ],
};

function activities(
  settings: Record<string, unknown>,
  env: NodeJS.ProcessEnv = { CONVEYOR_SLACK_BOT_TOKEN: 'xoxb-test' },
) {
  return createSlackActivities({ settings: () => slackSchema.parse({ api_url: slack.apiUrl, ...settings }), env });
}

interface Blocks {
  blocks: { type: string; elements?: { action_id?: string; value?: string }[]; text?: { text: string } }[];
}

describe('Slack gate messages', () => {
  before(async () => {
    slack = await new SlackReceiver().start();
  });
  after(() => slack.stop());

  it("posts a waiting gate to the environment's channel with the facts and Approve/Reject buttons", async () => {
    const notify = activities({
      channels: { production: 'C0PROD', '*': 'C0OTHER' },
      public_url: 'https://conveyor.example.com/',
    });
    const message = await notify.announceGate(facts);
    assert.ok(message);
    const [call] = slack.callsOf('chat.postMessage');
    assert.equal(call?.token, 'xoxb-test');
    assert.equal(call?.args.channel, 'C0PROD');
    assert.equal(message.channel, 'C0PROD');
    const { blocks } = call!.args as unknown as Blocks;
    const text = JSON.stringify(blocks);
    for (const expected of ['web', 'production', 'stable *v1*', 'canary *v2* at 20 %', 'alice, group:release']) {
      assert.ok(text.includes(expected), `the message shows ${expected}`);
    }
    assert.ok(text.includes('0.40 %') && text.includes('vs stable 0.20 %'), 'canary metrics against stable');
    assert.ok(text.includes('https://conveyor.example.com/deployments/web/production'));
    const buttons = blocks.find((block) => block.type === 'actions')?.elements ?? [];
    assert.deepEqual(
      buttons.map((button) => button.action_id),
      [gateActions.approve, gateActions.reject],
    );
    assert.deepEqual(JSON.parse(buttons[0]!.value!), { service: 'web', environment: 'production', gate: 'prod' });

    await notify.settleGate({
      message,
      facts,
      outcome: {
        outcome: 'approved',
        at: '2030-01-01T09:00:00.000Z',
        decisions: [{ user: 'alice', decision: 'approved', channel: 'slack', at: '2030-01-01T09:00:00.000Z' }],
      },
    });
    const [update] = slack.callsOf('chat.update');
    assert.equal(update?.args.channel, 'C0PROD');
    assert.equal(update?.args.ts, message.ts);
    const settled = update!.args as unknown as Blocks;
    assert.equal(
      settled.blocks.some((block) => block.type === 'actions'),
      false,
      'no buttons once decided',
    );
    assert.match(JSON.stringify(settled.blocks), /Approved: approved by \*alice\* via slack at <!date\^1893488400/);
  });

  it("uses the '*' channel for other environments, and does nothing without a token or a channel", async () => {
    const before = slack.calls.length;
    const other = await activities({ channels: { '*': 'C0OTHER' } }).announceGate({ ...facts, environment: 'staging' });
    assert.equal(other?.channel, 'C0OTHER');
    assert.equal(await activities({ channels: {} }).announceGate(facts), null);
    assert.equal(await activities({ channels: { '*': 'C0OTHER' } }, {}).announceGate(facts), null);
    assert.equal(slack.calls.length, before + 1);
  });
});
