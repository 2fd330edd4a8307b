/**
 * The runs API end to end: the real server, Temporal dev server, workers and Docker. Every endpoint, every refusal
 * (401, 403 naming the role, 400 naming the field, 404, 409) changing nothing, and a log follow over server-sent
 * events that sees lines as they are written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeTestEnvironment } from '../helpers/temporal';
import { eventually, openEvents, startTestServer, type TestServer } from '../helpers/server';

let server: TestServer;

const pipeline = (name: string, jobs: string) => `name: ${name}\njobs:\n${jobs}`;
const busybox = 'image: conveyor/busybox:latest';

interface RunStatusBody {
  runId: string;
  status: string;
  jobs: Record<string, { status: string; reused?: boolean; steps: { name: string; exitCode?: number }[] }>;
}

async function startRun(name: string, jobs: string, vars?: Record<string, string>): Promise<string> {
  const started = await server.call<{ runId: string; status: string }>('POST', '/api/runs', {
    user: 'olivia',
    body: { pipeline: pipeline(name, jobs), vars },
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  assert.equal(started.body.status, 'running');
  return started.body.runId;
}

async function finalStatus(runId: string): Promise<RunStatusBody> {
  return eventually(`run ${runId} ends`, async () => {
    const { status, body } = await server.call<RunStatusBody>('GET', `/api/runs/${runId}`, { user: 'victor' });
    return status === 200 && body.status !== 'running' ? body : undefined;
  });
}

async function runsOf(pipelineName: string): Promise<string[]> {
  const { body } = await server.call<{ runs: { runId: string }[] }>(
    'GET',
    `/api/runs?pipeline=${encodeURIComponent(pipelineName)}`,
    { user: 'victor' },
  );
  return body.runs.map((run) => run.runId);
}

describe('the runs API', () => {
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
    await closeTestEnvironment();
  });

  it('answers /healthz and /readyz (Temporal and the store) without a token', async () => {
    assert.deepEqual((await server.call('GET', '/healthz')).body, { status: 'ok' });
    const ready = await server.call<{ status: string; checks: Record<string, { ok: boolean }> }>('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
    assert.deepEqual(Object.keys(ready.body.checks).sort(), ['store', 'temporal']);
  });

  it('refuses a request without a token (401) or with an unknown one, and a token without the role (403 naming it)', async () => {
    const anonymous = await server.call('GET', '/api/runs');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error, 'unauthorized');
    const forged = await server.call('GET', '/api/runs', { headers: { authorization: 'Bearer cvy_not-a-real-token' } });
    assert.equal(forged.status, 401);
    assert.match(String(forged.body.message), /unknown or revoked/);

    const noRole = await server.call('GET', '/api/runs', { user: 'nobody' });
    assert.equal(noRole.status, 403);
    assert.equal(noRole.body.missingRole, 'viewer');
    assert.match(String(noRole.body.message), /nobody lacks the 'viewer' role/);

    const viewerStarts = await server.call('POST', '/api/runs', {
      user: 'victor',
      body: { pipeline: pipeline('refused-start', `  a:\n    steps: [{name: s, ${busybox}, script: [echo]}]\n`) },
    });
    assert.equal(viewerStarts.status, 403);
    assert.equal(viewerStarts.body.missingRole, 'operator');
    assert.deepEqual(await runsOf('refused-start'), [], 'a refused start starts nothing');
  });

  it('refuses bad input with 400 naming the field and the reason', async () => {
    const missing = await server.call<{ issues: { path: string; message: string }[] }>('POST', '/api/runs', {
      user: 'olivia',
      body: { vars: { X: 1 } },
    });
    assert.equal(missing.status, 400);
    const paths = missing.body.issues.map((issue) => issue.path);
    assert.ok(paths.includes('body.pipeline'), paths.join(', '));
    assert.ok(paths.includes('body.vars.X'), paths.join(', '));

    const unknownKey = await server.call('POST', '/api/runs', {
      user: 'olivia',
      body: { pipeline: 'name: x', pipelin: 'typo' },
    });
    assert.equal(unknownKey.status, 400);
    assert.match(String(unknownKey.body.message), /pipelin/);

    const invalid = await server.call<{ message: string; issues: { path: string; message: string }[] }>(
      'POST',
      '/api/runs',
      {
        user: 'olivia',
        body: {
          pipeline: pipeline('bad-deps', `  test:\n    depends_on: [biuld]\n    steps: [{name: s, script: [echo]}]\n`),
          file: 'ci.yml',
        },
      },
    );
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.message, /^ci\.yml:4:\d+ {2}unknown_dependency {2}jobs\.test\.depends_on\[0\]/);
    assert.equal(invalid.body.issues[0]?.path, 'pipeline.jobs.test.depends_on[0]');
    assert.deepEqual(await runsOf('bad-deps'), []);

    const badLimit = await server.call('GET', '/api/runs?limit=0', { user: 'victor' });
    assert.equal(badLimit.status, 400);
    assert.match(String(badLimit.body.message), /querystring\.limit/);
  });

  it('answers 404 for an unknown run on every run endpoint', async () => {
    const id = 'run-nothing-01aaaaaaaaaaaaaaaaaaaaaaaa';
    for (const [method, suffix, user] of [
      ['GET', '', 'victor'],
      ['GET', '/logs', 'victor'],
      ['GET', '/events', 'victor'],
      ['POST', '/cancel', 'olivia'],
      ['POST', '/rerun', 'olivia'],
    ] as const) {
      const answer = await server.call(method, `/api/runs/${id}${suffix}`, {
        user,
        body: method === 'POST' ? {} : undefined,
      });
      assert.equal(answer.status, 404, `${method} ${suffix}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, 'not_found');
    }
  });

  it('starts a run, lists and shows it, and follows its log live over server-sent events', async () => {
    const runId = await startRun(
      'api-follow',
      `  talk:\n    steps:\n      - name: speak\n        ${busybox}\n        script: ["echo first line", "sleep 4", "echo second line >&2"]\n`,
    );
    const follow = openEvents(`${server.url}/api/runs/${runId}/logs?follow=1`, {
      authorization: `Bearer ${server.tokens.victor}`,
    });
    const seen: { event: string; line?: string; runStatus?: string }[] = [];
    for await (const event of follow.events) {
      if (event.event === 'log') {
        const record = JSON.parse(event.data) as { line: string; stream: string };
        // While the step still sleeps, the run is running: the line arrived as it was written, not at the end.
        const now = await server.call<RunStatusBody>('GET', `/api/runs/${runId}`, { user: 'victor' });
        seen.push({ event: 'log', line: `${record.stream}:${record.line}`, runStatus: now.body.status });
      } else if (event.event === 'end') {
        seen.push({ event: 'end' });
        break;
      }
    }
    follow.close();
    assert.deepEqual(
      seen.map((entry) => entry.line ?? entry.event),
      ['stdout:first line', 'stderr:second line', 'end'],
    );
    assert.equal(seen[0]?.runStatus, 'running', 'the first line arrived while the step was still running');

    const final = await finalStatus(runId);
    assert.equal(final.status, 'success');
    assert.equal(final.jobs.talk?.steps[0]?.exitCode, 0);

    const logs = await server.call<{ records: { line: string; stream: string }[] }>(
      'GET',
      `/api/runs/${runId}/logs?stream=stderr`,
      { user: 'victor' },
    );
    assert.deepEqual(
      logs.body.records.map((record) => record.line),
      ['second line'],
    );

    const listed = await server.call<{ runs: { runId: string; trigger: string; status: string }[] }>(
      'GET',
      '/api/runs?pipeline=api-follow&status=success',
      { user: 'victor' },
    );
    // Newest first: this run leads the list (earlier test runs of the same pipeline may follow it).
    assert.deepEqual(
      listed.body.runs.slice(0, 1).map((run) => [run.runId, run.trigger, run.status]),
      [[runId, 'api:olivia', 'success']],
    );
  });

  it('streams status events until the run ends', async () => {
    const runId = await startRun('api-events', `  one:\n    steps: [{name: s, ${busybox}, script: ["sleep 1"]}]\n`);
    const stream = openEvents(`${server.url}/api/runs/${runId}/events`, {
      authorization: `Bearer ${server.tokens.victor}`,
    });
    const states: string[] = [];
    for await (const event of stream.events) {
      if (event.event === 'end') break;
      const status = JSON.parse(event.data) as RunStatusBody;
      const state = `${status.status}/${status.jobs.one?.status}`;
      if (states.at(-1) !== state) states.push(state);
    }
    stream.close();
    assert.equal(states.at(-1), 'success/success');
    assert.ok(states.includes('running/running'), states.join(' → '));
  });

  it('cancels a running run (202), and refuses to cancel it again (409)', async () => {
    const runId = await startRun('api-cancel', `  wait:\n    steps: [{name: s, ${busybox}, script: ["sleep 60"]}]\n`);
    await eventually('the job runs', async () => {
      const { body } = await server.call<RunStatusBody>('GET', `/api/runs/${runId}`, { user: 'victor' });
      return body.jobs.wait?.status === 'running' ? true : undefined;
    });
    const viewerCancels = await server.call('POST', `/api/runs/${runId}/cancel`, { user: 'victor' });
    assert.equal(viewerCancels.status, 403);
    const cancel = await server.call('POST', `/api/runs/${runId}/cancel`, { user: 'olivia' });
    assert.equal(cancel.status, 202);
    assert.deepEqual(cancel.body, { runId, status: 'cancelling' });
    const final = await finalStatus(runId);
    assert.equal(final.status, 'cancelled');
    assert.equal(final.jobs.wait?.status, 'cancelled');
    const again = await server.call('POST', `/api/runs/${runId}/cancel`, { user: 'olivia' });
    assert.equal(again.status, 409);
    assert.match(String(again.body.message), /is not running/);
  });

  it('re-runs only the failed jobs of a failed run, and refuses what cannot be re-run (409)', async () => {
    const runId = await startRun(
      'api-rerun',
      [
        `  good:\n    steps: [{name: s, ${busybox}, script: ["echo fine"]}]\n`,
        `  flaky:\n    steps: [{name: s, ${busybox}, script: ['test "$MODE" = fixed']}]\n`,
      ].join(''),
      { MODE: 'broken' },
    );
    const failed = await finalStatus(runId);
    assert.equal(failed.status, 'failed');

    const rerun = await server.call<{ runId: string; rerunOf: string }>('POST', `/api/runs/${runId}/rerun`, {
      user: 'olivia',
      body: { failed: true },
    });
    assert.equal(rerun.status, 201, JSON.stringify(rerun.body));
    assert.equal(rerun.body.rerunOf, runId);
    const second = await finalStatus(rerun.body.runId);
    // The same variables: the failing job fails the same way, and the good job's result was reused, not re-run.
    assert.equal(second.jobs.good?.reused, true);
    assert.equal(second.jobs.flaky?.status, 'failed');

    const succeeded = await startRun('api-rerun-ok', `  a:\n    steps: [{name: s, ${busybox}, script: [echo]}]\n`);
    await finalStatus(succeeded);
    const nothing = await server.call('POST', `/api/runs/${succeeded}/rerun`, { user: 'olivia', body: {} });
    assert.equal(nothing.status, 409);
    assert.match(String(nothing.body.message), /no failed or skipped jobs/);
    const everything = await server.call<{ runId: string }>('POST', `/api/runs/${succeeded}/rerun`, {
      user: 'olivia',
      body: { failed: false },
    });
    assert.equal(everything.status, 201);
    assert.equal((await finalStatus(everything.body.runId)).status, 'success');

    const running = await startRun(
      'api-rerun-busy',
      `  a:\n    steps: [{name: s, ${busybox}, script: ["sleep 30"]}]\n`,
    );
    const busy = await server.call('POST', `/api/runs/${running}/rerun`, { user: 'olivia', body: {} });
    assert.equal(busy.status, 409);
    assert.match(String(busy.body.message), /still running/);
    assert.equal((await server.call('POST', `/api/runs/${running}/cancel`, { user: 'olivia' })).status, 202);
    await finalStatus(running);
  });

  it('serves Prometheus metrics: runs by outcome, job and step durations, queue depth', async () => {
    await server.context.metrics.refresh();
    const { status, body, headers } = await server.call<string>('GET', '/metrics');
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /^text\/plain/);
    const value = (pattern: RegExp) => Number(pattern.exec(body)?.[1] ?? 'NaN');
    assert.ok(value(/^conveyor_runs_started_total (\d+)/m) >= 5);
    assert.ok(value(/^conveyor_runs_finished_total\{outcome="success"\} (\d+)/m) >= 2);
    assert.ok(value(/^conveyor_runs_finished_total\{outcome="failed"\} (\d+)/m) >= 2);
    assert.ok(value(/^conveyor_runs_finished_total\{outcome="cancelled"\} (\d+)/m) >= 1);
    assert.ok(value(/^conveyor_job_duration_seconds_count\{pipeline="api-follow",outcome="success"\} (\d+)/m) >= 1);
    assert.ok(value(/^conveyor_step_duration_seconds_count\{pipeline="api-rerun",outcome="failed"\} (\d+)/m) >= 1);
    assert.match(
      body,
      new RegExp(`^conveyor_task_queue_backlog\\{task_queue="${server.taskQueue}-docker",type="activity"\\} \\d+`, 'm'),
    );
    assert.match(
      body,
      /^conveyor_http_request_duration_seconds_count\{method="GET",route="\/api\/runs\/:runId",status="200"\} \d+/m,
    );
  });

  it('documents every route with its request and response schemas at /api/openapi.json', async () => {
    const { status, body } = await server.call<{
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
    }>('GET', '/api/openapi.json');
    assert.equal(status, 200);
    assert.match(body.openapi, /^3\.1/);
    for (const route of [
      '/api/runs',
      '/api/runs/{runId}',
      '/api/runs/{runId}/logs',
      '/api/runs/{runId}/events',
      '/api/runs/{runId}/cancel',
      '/api/runs/{runId}/rerun',
      '/healthz',
      '/readyz',
      '/metrics',
      '/slack/interactions',
    ]) {
      assert.ok(body.paths[route], `${route} is documented`);
    }
    const start = body.paths['/api/runs']!.post!;
    assert.ok(start.requestBody, 'the start body is described');
    assert.deepEqual(Object.keys(start.responses).sort(), ['201', '400', '401', '403']);
  });

  it('never logs a token', async () => {
    await server.call('GET', '/api/runs', { user: 'olivia' });
    await server.call('GET', '/api/runs', { headers: { cookie: `conveyor_session=${server.tokens.victor}` } });
    const log = server.logLines.join('');
    assert.ok(log.includes('/api/runs'), 'requests are logged');
    for (const token of Object.values(server.tokens)) assert.ok(!log.includes(token), 'a token appears in the log');
  });
});
