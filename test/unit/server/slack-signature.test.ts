/** Slack request signatures: Slack's published example, replay window, tampering, missing headers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slackRequestProblem, slackSignature } from '../../../server/slack/signature';

// The example from Slack's "Verifying requests from Slack" documentation: the base string must be assembled exactly
// as Slack assembles it for this to match.
const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const timestamp = '1531420618';
const body =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
  '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
  '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a1' +
  '4d10d2c447fce8b6703c';
const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const now = Number(timestamp) + 10;

describe('Slack request signatures', () => {
  it("reproduces Slack's documented example and accepts it within the window", () => {
    assert.equal(slackSignature(secret, timestamp, body), signature);
    assert.equal(slackRequestProblem({ signingSecret: secret, timestamp, signature, body, now }), undefined);
  });

  it('refuses a request older than five minutes, or from the future, as a replay', () => {
    for (const at of [Number(timestamp) + 301, Number(timestamp) - 301]) {
      assert.match(
        slackRequestProblem({ signingSecret: secret, timestamp, signature, body, now: at }) ?? '',
        /older than 5 minutes/,
      );
    }
    assert.equal(slackRequestProblem({ signingSecret: secret, timestamp, signature, body, now: now + 290 }), undefined);
  });

  it('refuses a body changed after signing, another secret, a forged signature and missing headers', () => {
    const check = (changes: Partial<Parameters<typeof slackRequestProblem>[0]>) =>
      slackRequestProblem({ signingSecret: secret, timestamp, signature, body, now, ...changes });
    assert.match(check({ body: body.replace('roadrunner', 'coyote') }) ?? '', /does not match/);
    assert.match(check({ signingSecret: 'another-secret' }) ?? '', /does not match/);
    assert.match(check({ signature: `v0=${'0'.repeat(64)}` }) ?? '', /does not match/);
    assert.match(check({ signature: 'v0=short' }) ?? '', /does not match/);
    assert.match(check({ signature: undefined }) ?? '', /missing/);
    assert.match(check({ timestamp: 'yesterday' }) ?? '', /not a Unix time/);
  });
});
