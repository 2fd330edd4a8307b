/**
 * `POST /slack/interactions` against a local Slack stand-in that signs requests the way Slack does: forged, stale
 * and altered requests are refused before anything is read, an unmapped Slack user is told so and nothing happens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeTestEnvironment } from '../helpers/temporal';
import { startTestServer, type TestServer } from '../helpers/server';
import { SlackReceiver } from '../helpers/slack-receiver';

const signingSecret = 'test-signing-secret-0123456789';
let server: TestServer;
let slack: SlackReceiver;

describe('Slack interactions', () => {
  before(async () => {
    slack = await new SlackReceiver().start();
    server = await startTestServer({
      workers: false,
      env: { CONVEYOR_SLACK_SIGNING_SECRET: signingSecret },
      extraConfig: { slack: { api_url: slack.apiUrl, channels: { '*': 'C0DEPLOYS' } } },
    });
  });
  after(async () => {
    await server.close();
    await slack.stop();
    await closeTestEnvironment();
  });

  const press = (changes: Partial<Parameters<SlackReceiver['press']>[0]> = {}) =>
    slack.press({
      url: `${server.url}/slack/interactions`,
      signingSecret,
      slackUserId: 'U0ALICE01',
      actionId: 'no_such_button',
      ...changes,
    });

  it('refuses a forged signature, a stale timestamp and a body changed after signing, and replies to none', async () => {
    const forged = await press({ signWith: 'not-the-secret' });
    assert.equal(forged.status, 401);
    assert.match(forged.body, /signature does not match/);

    const stale = await press({ timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    assert.equal(stale.status, 401);
    assert.match(stale.body, /older than 5 minutes/);

    const altered = await press({ tamper: (body) => body.replace('U0ALICE01', 'U0VICTOR1') });
    assert.equal(altered.status, 401);
    assert.match(altered.body, /signature does not match/);

    const unsigned = await fetch(`${server.url}/slack/interactions`, { method: 'POST', body: 'payload={}' });
    assert.equal(unsigned.status, 401);
    assert.deepEqual(slack.replies, [], 'nothing was answered to refused requests');
  });

  it('tells an unmapped Slack user, ephemerally, that nothing was done', async () => {
    const answer = await press({ slackUserId: 'U0STRANGER' });
    assert.equal(answer.status, 200);
    const reply = await slack.waitFor('the ephemeral reply', () =>
      slack.replies.find((r) => r.body.text?.includes('U0STRANGER')),
    );
    assert.equal(reply.body.response_type, 'ephemeral');
    assert.equal(reply.body.replace_original, false);
    assert.match(reply.body.text ?? '', /not mapped to a Conveyor user, so nothing was done/);
  });

  it('answers a mapped user pressing a button Conveyor does not know', async () => {
    const answer = await press({ actionId: 'mystery' });
    assert.equal(answer.status, 200);
    const reply = await slack.waitFor('the ephemeral reply', () =>
      slack.replies.find((r) => r.body.text?.includes("'mystery'")),
    );
    assert.match(reply.body.text ?? '', /does not know the button 'mystery'; nothing was done/);
  });

  it('says Slack is not configured when there is no signing secret', async () => {
    const bare = await startTestServer({ workers: false, env: { CONVEYOR_SLACK_SIGNING_SECRET: '' } });
    try {
      const answer = await slack.press({
        url: `${bare.url}/slack/interactions`,
        signingSecret,
        slackUserId: 'U0ALICE01',
        actionId: 'x',
      });
      assert.equal(answer.status, 503);
      assert.match(answer.body, /CONVEYOR_SLACK_SIGNING_SECRET/);
    } finally {
      await bare.close();
    }
  });
});
