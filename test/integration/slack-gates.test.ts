/**
 * Slack approvals end to end, against a local receiver speaking Slack's protocol (Web API calls recorded, button
 * presses signed the way Slack signs them) and the real server, Temporal, workers, Docker and routers: a waiting
 * gate is announced with its buttons; forged, stale, altered and unmapped presses and a press by a user without the
 * role change nothing; a valid press approves the gate with `channel: slack`; the message is settled after a Slack
 * approval, after an approval from another channel (the CLI's update) and when a gate times out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gateActions } from '../../activities/slack-gate-message';
import { deploymentWorkflowId } from '../../deploy/names';
import { approveUpdate } from '../../workflows/deployment-messages';
import { canaryDeployment, ensureServiceImage } from '../helpers/deployments';
import { startTestServer, type TestServer } from '../helpers/server';
import { SlackReceiver, type RecordedCall } from '../helpers/slack-receiver';
import { closeTestEnvironment } from '../helpers/temporal';

const signingSecret = 'gate-signing-secret-0123456789';
const environment = 'staging';
let server: TestServer;
let slack: SlackReceiver;

type Block = { type: string; text?: { text?: string }; elements?: { action_id?: string; value?: string }[] };

const blocksOf = (call: RecordedCall) => (call.args.blocks ?? []) as Block[];
const buttonsOf = (call: RecordedCall) =>
  blocksOf(call)
    .filter((block) => block.type === 'actions')
    .flatMap((block) => block.elements ?? []);
const textOf = (call: RecordedCall) => JSON.stringify(call.args);

describe('Slack gate approvals', () => {
  before(async () => {
    await Promise.all(['v1', 'v2'].map(ensureServiceImage));
    slack = await new SlackReceiver().start();
    server = await startTestServer({
      env: { CONVEYOR_SLACK_SIGNING_SECRET: signingSecret },
      extraConfig: {
        slack: { api_url: slack.apiUrl, channels: { [environment]: 'C0STAGING' }, bot_token: 'xoxb-test-token' },
      },
    });
  });
  after(async () => {
    await server.close();
    await slack.stop();
    await closeTestEnvironment();
  });

  it('announces a waiting gate, takes a signed press as the mapped user, and settles the message however the gate ends', async () => {
    const { client } = server.context;
    const deployment = await canaryDeployment(client, server.taskQueue, 'slack', environment);
    const { service, wait: status } = deployment;
    const posted = (gate: string) =>
      slack.waitFor(`the message of gate '${gate}'`, () =>
        slack.callsOf('chat.postMessage').find((call) => textOf(call).includes(`gate '${gate}'`)),
      );
    const settled = (message: RecordedCall, what: RegExp) =>
      slack.waitFor(`the settled message (${what})`, () =>
        slack
          .callsOf('chat.update')
          .find((call) => call.ts === message.ts && buttonsOf(call).length === 0 && what.test(String(call.args.text))),
      );
    try {
      await deployment.rollout('v1');
      await status('v1 live', (s) => s.state === 'complete' && s.stable?.version === 'v1');
      await deployment.rollout('v2', [
        { set_weight: 20 },
        { approval: { name: 'first', approvers: ['alice'] } },
        { set_weight: 40 },
        { approval: { name: 'second', approvers: ['alice'] } },
        { approval: { name: 'third', approvers: ['alice'], timeout: 2, on_timeout: 'reject' } },
      ]);

      // the first gate's message: facts and the two buttons, posted with the bot token to the environment's channel
      const first = await posted('first');
      assert.equal(first.args.channel, 'C0STAGING');
      assert.equal(first.token, 'xoxb-test-token');
      assert.match(textOf(first), /stable \*v1\*/);
      assert.match(textOf(first), /canary \*v2\* at 20 %/);
      assert.match(textOf(first), /Who may approve\*\\nalice \(1 needed\)/);
      const buttons = buttonsOf(first);
      assert.deepEqual(
        buttons.map((button) => button.action_id),
        [gateActions.approve, gateActions.reject],
      );
      const value = buttons[0]!.value!;
      assert.deepEqual(JSON.parse(value), { service, environment, gate: 'first' });

      const press = (changes: Partial<Parameters<SlackReceiver['press']>[0]> = {}) =>
        slack.press({
          url: `${server.url}/slack/interactions`,
          signingSecret,
          slackUserId: 'U0ALICE01',
          actionId: gateActions.approve,
          value,
          channel: 'C0STAGING',
          messageTs: first.ts,
          ...changes,
        });

      // refused presses change nothing
      assert.equal((await press({ signWith: 'forged-secret' })).status, 401);
      assert.equal((await press({ timestamp: Math.floor(Date.now() / 1000) - 301 })).status, 401);
      assert.equal((await press({ tamper: (body) => body.replace('U0ALICE01', 'U0VICTOR1') })).status, 401);
      assert.equal((await press({ slackUserId: 'U0STRANGER' })).status, 200);
      await slack.waitFor('the reply to the unmapped user', () =>
        slack.replies.find((reply) => /U0STRANGER.*not mapped/.test(reply.body.text ?? '')),
      );
      assert.equal((await press({ slackUserId: 'U0VICTOR1' })).status, 200);
      const refused = await slack.waitFor('the reply to the viewer', () =>
        slack.replies.find((reply) => /victor lacks the 'approver' role/.test(reply.body.text ?? '')),
      );
      assert.equal(refused.body.response_type, 'ephemeral');
      const unchanged = await status('still at the first gate', (s) => s.gate?.name === 'first');
      assert.deepEqual(unchanged.approvals, []);
      assert.equal(unchanged.state, 'awaiting_approval');
      assert.equal(
        slack.callsOf('chat.update').filter((call) => call.ts === first.ts).length,
        0,
        'the message was not touched',
      );

      // a valid press approves, the presser is told, the message loses its buttons and says who and how
      assert.equal((await press()).status, 200);
      const reply = await slack.waitFor('the reply to alice', () =>
        slack.replies.find((r) => /approved gate 'first' \(1 of 1\)/.test(r.body.text ?? '')),
      );
      assert.equal(reply.body.response_type, 'ephemeral');
      const firstSettled = await settled(first, /^Approved/);
      assert.match(textOf(firstSettled), /approved by \*alice\* via slack/);
      const moved = await status('past the first gate', (s) => s.gate?.name === 'second');
      const decision = moved.approvals.find((d) => d.gate === 'first' && d.decision === 'approved');
      assert.deepEqual(decision && [decision.user, decision.channel], ['alice', 'slack']);

      // the second gate is approved from the CLI (its update, channel cli): the Slack message is settled too
      const second = await posted('second');
      assert.equal(buttonsOf(second).length, 2);
      await client.workflow
        .getHandle(deploymentWorkflowId(service, environment))
        .executeUpdate(approveUpdate, { args: [{ user: 'alice', channel: 'cli', gate: 'second' }] });
      const secondSettled = await settled(second, /^Approved/);
      assert.match(textOf(secondSettled), /approved by \*alice\* via cli/);

      // the third gate times out: rejected by its deadline, the message says so
      const third = await posted('third');
      const thirdSettled = await settled(third, /^Timed out/);
      assert.match(textOf(thirdSettled), /Timed out at/);
      await status('rolled back to v1', (s) => s.rollout === null && s.stable?.version === 'v1');
      assert.equal(slack.callsOf('chat.postMessage').length, 3, 'each gate announced once');
    } finally {
      await deployment.destroy();
    }
  });
});
