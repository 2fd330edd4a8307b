/**
 * A local stand-in for Slack, speaking its protocol both ways: it answers Web API calls (`chat.postMessage`,
 * `chat.update`, …) made by `@slack/web-api` pointed at it and records them, records what is sent to interaction
 * `response_url`s, and presses buttons the way Slack does — a `block_actions` payload, form-encoded, signed with the
 * app's signing secret (`v0` HMAC-SHA256 over `v0:{timestamp}:{body}`, computed here independently of the server).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call as Slack would have received it. */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** The bot token it carried. */
  token?: string;
  ts: string;
}

/** One reply sent to an interaction's `response_url`. */
export interface RecordedReply {
  responseUrl: string;
  body: { text?: string; response_type?: string; replace_original?: boolean };
}

export interface PressOptions {
  /** The server's interactivity URL. */
  url: string;
  signingSecret: string;
  slackUserId: string;
  actionId: string;
  value?: string;
  /** Unix seconds to sign with (default now). */
  timestamp?: number;
  /** Sign with this secret instead (a forgery). */
  signWith?: string;
  /** Change the body after signing it. */
  tamper?: (body: string) => string;
  channel?: string;
  messageTs?: string;
}

export class SlackReceiver {
  readonly calls: RecordedCall[] = [];
  readonly replies: RecordedReply[] = [];
  private server?: Server;
  private messageCount = 0;
  url = '';

  /** Starts listening on a free loopback port. */
  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      void this.handle(request).then(
        (answer) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify(answer));
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ ok: false, error: String(error) }));
        },
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The Web API base URL to configure (`slack.api_url`). */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Web API calls of one method, in order. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Presses a button as Slack does; returns the server's answer. */
  async press(options: PressOptions): Promise<{ status: number; body: string }> {
    const payload = {
      type: 'block_actions',
      user: { id: options.slackUserId, username: options.slackUserId.toLowerCase(), team_id: 'T0CONVEYOR' },
      api_app_id: 'A0CONVEYOR',
      team: { id: 'T0CONVEYOR', domain: 'conveyor' },
      container: {
        type: 'message',
        message_ts: options.messageTs ?? '1.000001',
        channel_id: options.channel ?? 'C0TEST',
      },
      channel: { id: options.channel ?? 'C0TEST', name: 'deploys' },
      message: { ts: options.messageTs ?? '1.000001', type: 'message' },
      trigger_id: `${Date.now()}.trigger`,
      response_url: `${this.url}/response/${randomUUID()}`,
      actions: [
        {
          type: 'button',
          action_id: options.actionId,
          block_id: 'gate',
          value: options.value ?? '',
          action_ts: String(Date.now() / 1000),
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', options.signWith ?? options.signingSecret)
      .update(`v0:${timestamp}:${body}`)
      .digest('hex')}`;
    const response = await fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': signature,
      },
      body: options.tamper ? options.tamper(body) : body,
    });
    return { status: response.status, body: await response.text() };
  }

  /** Waits until `find` returns something from what was recorded. */
  async waitFor<T>(what: string, find: () => T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = find();
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`Slack receiver: ${what} did not arrive within ${timeoutMs / 1000} s`);
  }

  private async handle(request: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = request.url ?? '';
    if (url.startsWith('/response/')) {
      this.replies.push({ responseUrl: `${this.url}${url}`, body: JSON.parse(text) as RecordedReply['body'] });
      return { ok: true };
    }
    const method = url.replace(/^\/api\//, '').split('?')[0] ?? '';
    const args = parseArgs(text, request.headers['content-type']);
    const authorization = request.headers.authorization;
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : (args.token as string | undefined);
    const ts = method === 'chat.update' ? String(args.ts) : `${Math.floor(Date.now() / 1000)}.${++this.messageCount}`;
    this.calls.push({ method, args, token, ts });
    return { ok: true, channel: args.channel, ts, message: { ts, text: args.text } };
  }
}

/** Web API arguments arrive form-encoded (objects as JSON strings) or as JSON. */
function parseArgs(text: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return JSON.parse(text || '{}') as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    try {
      args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
    } catch {
      args[key] = value;
    }
  }
  return args;
}
