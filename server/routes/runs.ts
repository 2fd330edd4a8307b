/**
 * The runs API: start (pipeline content + variables), list, status, logs (`?follow=1` as server-sent events), a
 * status event stream, cancel and rerun. Starting and changing runs needs `operator`, reading needs `viewer`.
 */
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { LogRecord } from '../../activities/log-store';
import { parsePipeline } from '../../pipeline';
import { formatDiagnostic } from '../../client/pipeline-file';
import { rerunInput, requestCancel, startRun } from '../../client/run-control';
import { describeRun, listRuns } from '../../client/runs';
import type { RouteArea } from '../app';
import type { ServerContext } from '../context';
import { badRequest, responses } from '../http-errors';
import { openEventStream } from '../sse';
import {
  cancelledSchema,
  listRunsQuery,
  logsQuery,
  logsSchema,
  rerunBody,
  runIdParams,
  runListSchema,
  runStartedSchema,
  runStatusSchema,
  startRunBody,
} from './runs-schemas';

/** How often a followed log is read for new lines. */
const logPollMs = 250;

export const runRoutes: RouteArea = async (plainApp, { context }) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  const links = (runId: string) => ({
    self: `/api/runs/${encodeURIComponent(runId)}`,
    web: `/runs/${encodeURIComponent(runId)}`,
    temporal: context.temporalUiUrl(runId),
  });

  app.post(
    '/api/runs',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags: ['runs'],
        summary: 'Start a run of a pipeline',
        body: startRunBody,
        response: responses({ 201: runStartedSchema }, [400, 401, 403]),
      },
    },
    async (request, reply) => {
      const { pipeline: source, vars } = request.body;
      const file = request.body.file ?? 'pipeline.yml';
      const parsed = parsePipeline(source, { file, vars, defaultImage: context.config.defaultImage });
      if (!parsed.valid) {
        throw badRequest(
          parsed.errors.map((diagnostic) => formatDiagnostic(file, diagnostic)).join('\n'),
          parsed.errors.map((d) => ({
            path: `pipeline${d.path ? `.${d.path}` : ''}`,
            message: `${file}:${d.line}:${d.column}  ${d.code}  ${d.message}${d.hint ? ` (${d.hint})` : ''}`,
          })),
        );
      }
      const trigger = `api:${request.identity!.user}`;
      const runId = await startRun(context.client, context.config, { pipeline: parsed.pipeline, vars, trigger });
      request.log.info({ runId, user: request.identity!.user }, 'run started');
      return reply.code(201).send({ runId, status: 'running' as const, links: links(runId) });
    },
  );

  app.get(
    '/api/runs',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags: ['runs'],
        summary: 'Recent runs, newest first',
        querystring: listRunsQuery,
        response: responses({ 200: runListSchema }, [400, 401, 403]),
      },
    },
    async (request) => ({ runs: await listRuns(context.client, request.query) }),
  );

  app.get(
    '/api/runs/:runId',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags: ['runs'],
        summary: "A run's status: every job with its steps, attempts, exit codes and reasons",
        params: runIdParams,
        response: responses({ 200: runStatusSchema }, [400, 401, 403, 404]),
      },
    },
    async (request) => {
      const { runId } = request.params;
      const { status } = await context.runs.read(runId);
      return { runId, ...status, links: links(runId) };
    },
  );

  app.get(
    '/api/runs/:runId/events',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags: ['runs'],
        summary: 'Server-sent events: `status` (the whole status) on every change, `end` when the run ends',
        params: runIdParams,
        response: responses({}, [400, 401, 403, 404]),
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      await context.runs.read(runId);
      const stream = openEventStream(request, reply);
      const stop = context.runs.watch(runId, (snapshot) => {
        stream.send('status', { runId, ...snapshot.status, links: links(runId) });
        if (snapshot.closed) {
          stream.send('end', { status: snapshot.status.status });
          stream.close();
        }
      });
      await stream.done;
      stop();
    },
  );

  app.get(
    '/api/runs/:runId/logs',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags: ['runs'],
        summary: "A run's step output; with follow=1, server-sent events as lines are written",
        description:
          'Without follow: every line so far. With follow=1: a `log` event per line (data: the record), then `end` ' +
          'once the run has ended and every line was sent. Each batch carries an id, so a reconnecting EventSource ' +
          'resumes where it stopped.',
        params: runIdParams,
        querystring: logsQuery,
        response: responses({ 200: logsSchema }, [400, 401, 403, 404]),
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      await describeRun(context.client, runId);
      const { job, step, stream: only, follow } = request.query;
      const matches = (record: LogRecord) =>
        (!job || record.job === job) && (!step || record.step === step) && (!only || record.stream === only);
      if (follow !== '1' && follow !== 'true') {
        const records: LogRecord[] = [];
        let offsets = new Map<string, number>();
        for (let more = true; more;) {
          const read = await context.logs.read(runId, offsets);
          records.push(...read.records.filter(matches));
          offsets = read.offsets;
          more = read.more === true;
        }
        return reply.send({ records: chronological(records) });
      }
      return followLogs(context, request, reply, runId, matches);
    },
  );

  app.post(
    '/api/runs/:runId/cancel',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags: ['runs'],
        summary: 'Cancel a running run (its containers are killed and removed)',
        params: runIdParams,
        response: responses({ 202: cancelledSchema }, [400, 401, 403, 404, 409]),
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      await requestCancel(context.client, runId);
      request.log.info({ runId, user: request.identity!.user }, 'run cancellation requested');
      return reply.code(202).send({ runId, status: 'cancelling' as const });
    },
  );

  app.post(
    '/api/runs/:runId/rerun',
    {
      config: { access: { role: 'operator' } },
      schema: {
        tags: ['runs'],
        summary: 'Re-run a finished run: only its failed and skipped jobs (default), or all of it',
        params: runIdParams,
        body: rerunBody,
        response: responses({ 201: runStartedSchema }, [400, 401, 403, 404, 409]),
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      const failedOnly = request.body?.failed ?? true;
      const runIdNew = await rerunRun(context, runId, failedOnly, request.identity!.user);
      request.log.info({ runId: runIdNew, rerunOf: runId, user: request.identity!.user }, 'run re-run');
      return reply
        .code(201)
        .send({ runId: runIdNew, status: 'running' as const, rerunOf: runId, links: links(runIdNew) });
    },
  );
};

/** Starts a re-run of `runId` as `user`; shared by the API and the web view's button. */
export async function rerunRun(context: ServerContext, runId: string, failedOnly: boolean, user: string) {
  const input = await rerunInput(context.client, runId, { failedOnly, trigger: `rerun:${user}` });
  return startRun(context.client, context.config, input);
}

/** Streams a run's log lines as server-sent events until the run has ended and every line was sent. */
async function followLogs(
  context: ServerContext,
  request: FastifyRequest,
  reply: Parameters<typeof openEventStream>[1],
  runId: string,
  matches: (record: LogRecord) => boolean,
): Promise<void> {
  let offsets = decodeCursor(request.headers['last-event-id']);
  const stream = openEventStream(request, reply);
  let closed = false;
  const stopWatching = context.runs.watch(runId, (snapshot) => (closed ||= snapshot.closed));
  try {
    while (!stream.closed) {
      // Read the closed flag before the log: lines written before the run ended are all in this read.
      const ended = closed;
      const read = await context.logs.read(runId, offsets);
      offsets = read.offsets;
      // Only a batch's last line carries the cursor: a client cut off mid-batch resumes at the batch's start and sees
      // a few lines twice rather than missing any.
      const batch = chronological(read.records.filter(matches));
      const cursor = encodeCursor(offsets);
      batch.forEach((record, index) => stream.send('log', record, index === batch.length - 1 ? cursor : undefined));
      // A store that returned a bounded batch has more at once: read on without waiting.
      if (read.more) continue;
      if (ended) {
        stream.send('end', { runId });
        break;
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, logPollMs)), stream.done]);
    }
  } finally {
    stopWatching();
    stream.close();
  }
}

/** The store reads file by file (one per step attempt); people read output in the order it was written. */
function chronological(records: LogRecord[]): LogRecord[] {
  return records
    .map((record, index) => ({ record, index }))
    .sort((a, b) => (a.record.ts < b.record.ts ? -1 : a.record.ts > b.record.ts ? 1 : a.index - b.index))
    .map(({ record }) => record);
}

function encodeCursor(offsets: Map<string, number>): string {
  return Buffer.from(JSON.stringify([...offsets])).toString('base64url');
}

function decodeCursor(header: string | string[] | undefined): Map<string, number> {
  if (typeof header !== 'string' || !header) return new Map();
  try {
    const entries = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(entries) && entries.every((e) => Array.isArray(e) && typeof e[1] === 'number')) {
      return new Map(entries as [string, number][]);
    }
  } catch {
    // A cursor we did not make: start from the beginning.
  }
  return new Map();
}
