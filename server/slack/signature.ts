/**
 * Slack request signatures (docs/control-plane.md): `X-Slack-Signature: v0=HEX(HMAC-SHA256(signing secret,
 * "v0:{X-Slack-Request-Timestamp}:{raw body}"))`, compared in constant time, and refused when the timestamp is more
 * than five minutes from now, so a captured request cannot be replayed later.
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from '../auth';

/** How far a request's timestamp may be from now, in seconds. */
export const replayWindowSeconds = 5 * 60;

/** The `X-Slack-Signature` value Slack sends for `body` at `timestamp` (Unix seconds, as the header text). */
export function slackSignature(signingSecret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`, 'utf8').digest('hex')}`;
}

/** Why a request was refused, or `undefined` when it is authentic and fresh. */
export function slackRequestProblem(request: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  /** Unix seconds now. */
  now: number;
}): string | undefined {
  const { timestamp, signature } = request;
  if (!timestamp || !signature) return 'missing X-Slack-Request-Timestamp or X-Slack-Signature';
  if (!/^\d{1,12}$/.test(timestamp)) return 'X-Slack-Request-Timestamp is not a Unix time';
  if (Math.abs(request.now - Number(timestamp)) > replayWindowSeconds) {
    return 'the request is older than 5 minutes (or from the future): refused as a possible replay';
  }
  const expected = slackSignature(request.signingSecret, timestamp, request.body);
  if (!safeEqual(signature, expected)) return 'the signature does not match the body';
  return undefined;
}
