/**
 * `POST /hooks/github` and `POST /hooks/gitlab`: webhooks that start runs (docs/triggers.md). Public to the auth
 * plugin — the providers prove themselves with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the
 * webhook secret, compared in constant time) or `X-Gitlab-Token` — and checked before the body is even parsed.
 *
 * Answers: 201 when a run started, 200 for a redelivery (nothing started), 202 with the reason when nothing
 * matched, 400 for a body or headers Conveyor cannot read, 401 for a bad signature or token, 422 when the pipeline
 * is invalid at the commit (a failed commit status says so too), 503 when the repository cannot be fetched.
 */
import { createHmac } from 'node:crypto';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { GitRepositories } from '../../activities/source/repositories';
import { credentialsFor, readSecret } from '../../config/providers';
import type { RouteArea } from '../app';
import { safeEqual } from '../auth';
import { dispatchEvent, RepositoryUnavailableError, type DispatchResult } from '../hooks/dispatch';
import { PayloadError, readGithubEvent, readGitlabEvent, type ReadEvent } from '../hooks/events';
import { badRequest, HttpError, responses, unauthorized } from '../http-errors';

const outcomeSchema = z.object({
  file: z.string(),
  pipeline: z.string().optional(),
  runId: z.string().optional(),
  outcome: z.enum(['started', 'duplicate', 'skipped', 'missing', 'invalid']),
  reason: z.string().optional(),
});

const hookAnswerSchema = z
  .object({
    message: z.string().meta({ description: 'What happened, in one line.' }),
    started: z.array(z.object({ pipeline: z.string(), runId: z.string(), url: z.string() })),
    pipelines: z.array(outcomeSchema).meta({ description: 'Each pipeline file of the repository and its outcome.' }),
  })
  .meta({ id: 'HookAnswer' });
type HookAnswer = z.output<typeof hookAnswerSchema>;

/** Webhooks may carry large pushes (GitHub caps payloads at 25 MB). */
const hookBodyLimit = 25 * 1024 * 1024;

export const hookRoutes: RouteArea = async (plainApp, { context }) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  // Signatures cover the raw bytes: this area reads every body as a Buffer and parses it itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: hookBodyLimit }, (_request, body, done) =>
    done(null, body),
  );
  const repositories = new GitRepositories({
    cacheDir: path.join(context.config.dataDir, 'git', 'server'),
    credentials: (url) => credentialsFor(context.settings().file.providers, context.env, url),
  });

  const answer = async (request: FastifyRequest, read: ReadEvent, reply: { code: (status: number) => unknown }) => {
    if ('ignored' in read) {
      reply.code(202);
      return { message: `nothing to do: ${read.ignored}`, started: [], pipelines: [] };
    }
    let result: DispatchResult;
    try {
      result = await dispatchEvent(context, repositories, read.event, request.log);
    } catch (error) {
      if (error instanceof RepositoryUnavailableError) {
        throw new HttpError(503, {
          error: 'unavailable',
          message: `the repository cannot be fetched now: ${error.message}`,
        });
      }
      throw error;
    }
    const { status, body } = summarise(result, (runId) => runUrl(context, runId));
    if (status === 422) {
      throw new HttpError(422, { error: 'unprocessable', message: body.message });
    }
    request.log.info({ delivery: read.event.delivery, pipelines: body.pipelines }, 'webhook: %s', body.message);
    reply.code(status);
    return body;
  };

  app.post(
    '/hooks/github',
    {
      config: { access: 'public' },
      bodyLimit: hookBodyLimit,
      schema: {
        tags: ['hooks'],
        summary: 'GitHub webhook: push and pull_request events start the pipelines whose triggers match',
        security: [],
        headers: z.looseObject({
          'x-github-event': z.string().optional(),
          'x-github-delivery': z.string().optional(),
          'x-hub-signature-256': z.string().optional(),
        }),
        response: responses(
          { 200: hookAnswerSchema, 201: hookAnswerSchema, 202: hookAnswerSchema },
          [400, 401, 422, 503],
        ),
      },
    },
    async (request, reply) => {
      const github = context.settings().file.providers?.github;
      const secret = readSecret(
        context.env,
        { inline: github?.webhook_secret, envName: github?.webhook_secret_env },
        'CONVEYOR_GITHUB_WEBHOOK_SECRET',
      );
      if (!secret) {
        throw new HttpError(503, {
          error: 'unavailable',
          message:
            'GitHub webhooks are not configured: set providers.github.webhook_secret_env (or CONVEYOR_GITHUB_WEBHOOK_SECRET)',
        });
      }
      const body = rawBody(request);
      const signature = request.headers['x-hub-signature-256'];
      const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      if (typeof signature !== 'string' || !safeEqual(signature, expected)) {
        request.log.warn('GitHub webhook refused: bad or missing X-Hub-Signature-256');
        throw unauthorized(
          signature
            ? 'X-Hub-Signature-256 does not match the body: check the webhook secret'
            : 'missing X-Hub-Signature-256: set a secret on the webhook',
        );
      }
      const event = request.headers['x-github-event'];
      if (!event) throw badRequest('missing X-GitHub-Event header');
      const delivery = request.headers['x-github-delivery'];
      if (!delivery) throw badRequest('missing X-GitHub-Delivery header');
      const payload = parseBody(body, request.headers['content-type']);
      if (event === 'ping') {
        return { message: 'pong: the webhook reaches Conveyor and its signature is valid', started: [], pipelines: [] };
      }
      if (event !== 'push' && event !== 'pull_request') {
        reply.code(202);
        return {
          message: `event '${event}' starts nothing: Conveyor handles push and pull_request (and ping)`,
          started: [],
          pipelines: [],
        };
      }
      return answer(
        request,
        readOrThrow(() => readGithubEvent(event, delivery, payload)),
        reply,
      );
    },
  );

  app.post(
    '/hooks/gitlab',
    {
      config: { access: 'public' },
      bodyLimit: hookBodyLimit,
      schema: {
        tags: ['hooks'],
        summary: 'GitLab webhook: push, tag push and merge request events start the pipelines whose triggers match',
        security: [],
        headers: z.looseObject({
          'x-gitlab-event': z.string().optional(),
          'x-gitlab-token': z.string().optional(),
          'x-gitlab-event-uuid': z.string().optional(),
          'idempotency-key': z.string().optional(),
        }),
        response: responses(
          { 200: hookAnswerSchema, 201: hookAnswerSchema, 202: hookAnswerSchema },
          [400, 401, 422, 503],
        ),
      },
    },
    async (request, reply) => {
      const gitlab = context.settings().file.providers?.gitlab;
      const secret = readSecret(
        context.env,
        { inline: gitlab?.webhook_token, envName: gitlab?.webhook_token_env },
        'CONVEYOR_GITLAB_WEBHOOK_TOKEN',
      );
      if (!secret) {
        throw new HttpError(503, {
          error: 'unavailable',
          message:
            'GitLab webhooks are not configured: set providers.gitlab.webhook_token_env (or CONVEYOR_GITLAB_WEBHOOK_TOKEN)',
        });
      }
      const token = request.headers['x-gitlab-token'];
      if (typeof token !== 'string' || !safeEqual(token, secret)) {
        request.log.warn('GitLab webhook refused: bad or missing X-Gitlab-Token');
        throw unauthorized(
          token
            ? 'X-Gitlab-Token is not the configured webhook token'
            : 'missing X-Gitlab-Token: set a secret token on the webhook',
        );
      }
      const event = request.headers['x-gitlab-event'];
      if (!event) throw badRequest('missing X-Gitlab-Event header');
      const body = rawBody(request);
      const payload = parseBody(body, request.headers['content-type']);
      // A resent delivery carries the same Idempotency-Key (newer GitLab) or event UUID.
      const delivery = request.headers['idempotency-key'] ?? request.headers['x-gitlab-event-uuid'];
      if (!delivery) throw badRequest('missing X-Gitlab-Event-UUID header');
      if (event !== 'Push Hook' && event !== 'Tag Push Hook' && event !== 'Merge Request Hook') {
        reply.code(202);
        return {
          message: `event '${event}' starts nothing: Conveyor handles Push Hook, Tag Push Hook and Merge Request Hook`,
          started: [],
          pipelines: [],
        };
      }
      return answer(
        request,
        readOrThrow(() => readGitlabEvent(event, delivery, payload)),
        reply,
      );
    },
  );
};

function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body)
    ? request.body
    : Buffer.from(typeof request.body === 'string' ? request.body : '');
}

/** JSON, or GitHub's form encoding (`payload=<json>`); a 400 naming the problem otherwise. */
function parseBody(body: Buffer, contentType: string | undefined): unknown {
  let text = body.toString('utf8');
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw badRequest('the form body has no payload field');
    text = payload;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body is not JSON (${(error as Error).message}); send the webhook as application/json`);
  }
}

function readOrThrow(read: () => ReadEvent): ReadEvent {
  try {
    return read();
  } catch (error) {
    if (error instanceof PayloadError) throw badRequest(error.message);
    throw error;
  }
}

function runUrl(context: Parameters<RouteArea>[1]['context'], runId: string): string {
  const base =
    context.settings().file.providers?.public_url ?? `http://${context.config.api.host}:${context.config.api.port}`;
  return `${base.replace(/\/+$/, '')}/runs/${encodeURIComponent(runId)}`;
}

/** The status and body of an answer: started (201), redelivered (200), invalid (422) or nothing to do (202). */
export function summarise(
  result: DispatchResult,
  url: (runId: string) => string,
): { status: number; body: HookAnswer } {
  const started = result.outcomes.filter((outcome) => outcome.outcome === 'started');
  const duplicates = result.outcomes.filter((outcome) => outcome.outcome === 'duplicate');
  const invalid = result.outcomes.filter((outcome) => outcome.outcome === 'invalid');
  const body: HookAnswer = {
    message: '',
    started: started.map((outcome) => ({
      pipeline: outcome.pipeline!,
      runId: outcome.runId!,
      url: url(outcome.runId!),
    })),
    pipelines: result.outcomes,
  };
  if (started.length > 0) {
    body.message = `started ${started.map((outcome) => outcome.runId).join(', ')}`;
    return { status: 201, body };
  }
  if (invalid.length > 0) {
    body.message = invalid.map((outcome) => outcome.reason).join('; ');
    return { status: 422, body };
  }
  if (duplicates.length > 0) {
    body.message = `already delivered: ${duplicates.map((outcome) => outcome.runId).join(', ')} started for this delivery; nothing new started`;
    return { status: 200, body };
  }
  const reasons = result.outcomes.map((outcome) => outcome.reason).filter(Boolean);
  body.message = `nothing started: ${reasons.join('; ') || 'no pipeline file'}`;
  return { status: 202, body };
}
