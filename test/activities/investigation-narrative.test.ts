/**
 * The narrative activity against a local server speaking the OpenAI chat-completions protocol
 * (docs/investigations.md, "Optional LLM narrative"): what it sends (path, model, Bearer key, bounded facts), what it
 * keeps, and how each failure is classified — transient ones retryable, a refusal or an unusable answer not.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createNarrativeActivities } from '../../activities/investigation/narrate';
import { narrativeKey } from '../../activities/investigation/records';
import { createFsStore } from '../../activities/store/fs';
import type { ArtifactStore } from '../../activities/store/store';
import type { InvestigationLlmSettings } from '../../config/investigations-llm';
import { maxFactsChars } from '../../investigate/narrative';
import { startChatServer, type ChatServer } from '../helpers/chat-server';
import { frame, line } from '../unit/investigate/frames';

const hypotheses = [
  {
    cause: 'script_error',
    rank: 1,
    description: 'The script failed.',
    testPlan: '',
    dataNeeded: [],
    passRule: '',
    failRule: '',
    because: [],
    verdict: 'pass' as const,
    strength: 0.5,
    evidence: ["job 'build' step 'compile' ended with exit code 1 (exit_code)"],
  },
  {
    ...{ description: '', testPlan: '', dataNeeded: [], passRule: '', failRule: '', because: [] },
    cause: 'oom',
    rank: 2,
    verdict: 'fail' as const,
    evidence: [],
  },
];

describe('the narrative activity', () => {
  let dir = '';
  let store: ArtifactStore;
  let server: ChatServer;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-narrative-'));
    store = createFsStore(path.join(dir, 'store'));
    server = await startChatServer();
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const narrate = (settings: Partial<InvestigationLlmSettings> | undefined, env: NodeJS.ProcessEnv = {}) =>
    createNarrativeActivities({
      store,
      env,
      llm: () => settings && { url: server.url, model: 'test-model', timeout_seconds: 30, ...settings },
    }).narrateIncident({
      incidentId: 'incident-narrative-1',
      frame: frame({ logExcerpt: [line('ld: undefined symbol parse_config'), line('y'.repeat(50_000))] }),
      hypotheses,
    });

  /** Asserts `promise` fails as an ApplicationFailure of `type`, retryable or not, with a message matching `message`. */
  async function failsWith(promise: Promise<unknown>, type: string, retryable: boolean, message: RegExp) {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure, String(error));
      assert.equal(error.type, type);
      assert.equal(error.nonRetryable, !retryable);
      assert.match(error.message, message);
      return true;
    });
  }

  it('does nothing without an endpoint configured', async () => {
    server.requests.length = 0;
    assert.deepEqual(await narrate(undefined), {});
    assert.equal(server.requests.length, 0);
  });

  it('POSTs the bounded facts to <url>/chat/completions with the model and the Bearer key, and keeps the exchange', async () => {
    server.requests.length = 0;
    server.mode = 'answer';
    const { narrative } = await narrate({ api_key_env: 'TEST_LLM_KEY' }, { TEST_LLM_KEY: 'sk-local-123' });
    const [request] = server.requests;
    assert.equal(server.requests.length, 1);
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/v1/chat/completions');
    assert.equal(request?.authorization, 'Bearer sk-local-123');
    const body = JSON.parse(request!.body) as { model: string; messages: { role: string; content: string }[] };
    assert.equal(body.model, 'test-model');
    assert.deepEqual(
      body.messages.map((message) => message.role),
      ['system', 'user'],
    );
    assert.ok(body.messages[1]!.content.length <= maxFactsChars + 20, 'the facts are bounded');
    assert.match(body.messages[1]!.content, /ld: undefined symbol parse_config/);
    assert.doesNotMatch(request!.body, /sk-local-123/, 'the key is only in the header');

    assert.equal(narrative?.model, 'test-model');
    assert.match(narrative!.summary!, /missing symbol/);
    assert.deepEqual(
      narrative!.hypotheses.map((suggestion) => [suggestion.cause, suggestion.status]),
      [
        ['stale_build_cache', 'untested'],
        ['oom', 'not_confirmed'],
      ],
    );
    const kept = await store.getRecord<{ endpoint: string; narrative: unknown }>(narrativeKey('incident-narrative-1'));
    assert.equal(kept?.endpoint, `${server.url}/chat/completions`);
    assert.deepEqual(kept?.narrative, narrative);
  });

  it('sends no Authorization header without api_key_env, and refuses when its variable is not set', async () => {
    server.requests.length = 0;
    server.mode = 'answer';
    await narrate({});
    assert.equal(server.requests[0]?.authorization, undefined);
    server.requests.length = 0;
    await failsWith(
      narrate({ api_key_env: 'TEST_LLM_KEY' }),
      'NarrativeRefusedError',
      false,
      /^the environment variable TEST_LLM_KEY \(investigations\.llm\.api_key_env\) is not set on the worker$/,
    );
    assert.equal(server.requests.length, 0);
  });

  it('a 500 and an unreachable endpoint are retryable', async () => {
    server.mode = 'error500';
    await failsWith(
      narrate({}),
      'NarrativeUnavailableError',
      true,
      /\/v1\/chat\/completions answered 500 Internal Server Error$/,
    );
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await failsWith(
      narrate({ url: `http://127.0.0.1:${port}/v1` }),
      'NarrativeUnavailableError',
      true,
      /^cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: ECONNREFUSED$/,
    );
  });

  it('a slow endpoint times out after timeout_seconds, retryable', async () => {
    server.mode = 'hang';
    await failsWith(
      narrate({ timeout_seconds: 1 }),
      'NarrativeUnavailableError',
      true,
      /did not answer within 1 s \(investigations\.llm\.timeout_seconds\)$/,
    );
  });

  it('a body that is not JSON, or content that is not the JSON asked for, is not retried', async () => {
    server.mode = 'garbage';
    await failsWith(
      narrate({}),
      'NarrativeRefusedError',
      false,
      /answered 200 with a body that is not JSON: "\{\\"choices/,
    );
    server.mode = 'answer';
    server.content = 'It was probably DNS.';
    await failsWith(
      narrate({}),
      'NarrativeRefusedError',
      false,
      /the answer's content is not the JSON object asked for/,
    );
  });
});
