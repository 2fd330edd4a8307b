/**
 * The control plane's real server for tests: listening on a free loopback port, against the stack's Temporal dev
 * server and log store, with its own `conveyor.config.yml` (users, roles, tokens) and runs on a task queue of its
 * own served by real workers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { newToken } from '../../config/access-tokens';
import { buildServer } from '../../server/app';
import type { ServerContext } from '../../server/context';
import { createServerContext } from '../../server/create-context';
import { loadConfig } from '../../workers/config';
import { testEnvironment, uniqueTaskQueue, withWorkers } from './temporal';

/** The users every test server knows, and what they may do. */
export const testUsers = {
  olivia: { name: 'Olivia Operator', roles: ['operator'] },
  victor: { name: 'Victor Viewer', roles: ['viewer'], slack: 'U0VICTOR1' },
  alice: { name: 'Alice Approver', groups: ['release'], slack: 'U0ALICE01' },
  nobody: { roles: [] },
} as const;
export type TestUser = keyof typeof testUsers;

/** A running test server. */
export interface TestServer {
  url: string;
  app: FastifyInstance;
  context: ServerContext;
  taskQueue: string;
  /** Each test user's API token. */
  tokens: Record<TestUser, string>;
  /** Every line the server logged. */
  logLines: string[];
  /** The configuration file (tests may rewrite it). */
  configFile: string;
  /** A JSON request as `user` (or anonymous); returns status and parsed body. */
  call: <T = Record<string, unknown>>(
    method: string,
    urlPath: string,
    options?: { user?: TestUser; body?: unknown; headers?: Record<string, string> },
  ) => Promise<{ status: number; body: T; headers: Headers }>;
  close: () => Promise<void>;
}

/** Starts a server (and workers for its task queue); extra config sections (e.g. `slack`) go into the file. */
export async function startTestServer(
  options: { extraConfig?: Record<string, unknown>; env?: NodeJS.ProcessEnv; workers?: boolean } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'conveyor-server-'));
  const configFile = path.join(dir, 'conveyor.config.yml');
  const tokens = {} as Record<TestUser, string>;
  const entries = (Object.keys(testUsers) as TestUser[]).map((user) => {
    const { token, entry } = newToken(user, 'test');
    tokens[user] = token;
    return entry;
  });
  writeFileSync(
    configFile,
    stringify({
      access: {
        users: testUsers,
        groups: { release: { environments: { production: ['approver'], staging: ['approver', 'operator'] } } },
        tokens: entries,
      },
      ...options.extraConfig,
    }),
  );
  const env = { ...process.env, ...options.env, CONVEYOR_CONFIG: configFile };
  const taskQueue = uniqueTaskQueue('server');
  const config = { ...loadConfig(env), taskQueues: { workflows: taskQueue, docker: `${taskQueue}-docker` } };
  const temporal = await testEnvironment();
  const context = createServerContext({
    config,
    client: temporal.client,
    env,
    runReader: { pollMs: 200 },
    configCheckMs: 0,
  });
  const logLines: string[] = [];
  const app = await buildServer(context, {
    logger: { level: 'debug', stream: { write: (line: string) => void logLines.push(line) } },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  // Workers serve the server's task queue until close: withWorkers keeps them up while its body waits.
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let workers: Promise<void> = Promise.resolve();
  if (options.workers !== false) {
    let started: () => void = () => undefined;
    const up = new Promise<void>((resolve) => (started = resolve));
    workers = withWorkers(
      taskQueue,
      async () => {
        started();
        await released;
      },
      { slack: () => context.settings().file.slack },
    );
    await Promise.race([up, workers]);
  }

  return {
    url,
    app,
    context,
    taskQueue,
    tokens,
    logLines,
    configFile,
    call: async (method, urlPath, callOptions = {}) => {
      const headers: Record<string, string> = { ...callOptions.headers };
      if (callOptions.user) headers.authorization = `Bearer ${tokens[callOptions.user]}`;
      if (callOptions.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${urlPath}`, {
        method,
        headers,
        body: callOptions.body === undefined ? undefined : JSON.stringify(callOptions.body),
        redirect: 'manual',
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON (a page, metrics): keep the text
      }
      return { status: response.status, body: body as never, headers: response.headers };
    },
    close: async () => {
      context.runs.close();
      context.metrics.stop();
      await app.close();
      release();
      await workers;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One server-sent event. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Opens an event stream and yields its events as they arrive (the test decides when to stop; `close` aborts it).
 */
export function openEvents(
  url: string,
  headers: Record<string, string>,
): { events: AsyncGenerator<ServerSentEvent>; response: Promise<Response>; close: () => void } {
  const abort = new AbortController();
  const response = fetch(url, { headers, signal: abort.signal });
  async function* events(): AsyncGenerator<ServerSentEvent> {
    const answer = await response;
    if (!answer.ok || !answer.body) throw new Error(`event stream answered ${answer.status}: ${await answer.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of answer.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: ServerSentEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
            else if (line.startsWith('id: ')) event.id = line.slice(4);
          }
          if (data.length === 0) continue;
          event.data = data.join('\n');
          yield event;
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }
  return { events: events(), response, close: () => abort.abort() };
}

/** Polls `check` every 200 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: not reached within ${timeoutMs / 1000} s${last ? ` (last error: ${String(last)})` : ''}`);
}
