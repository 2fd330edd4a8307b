/**
 * The control plane's server under load (docs/benchmarks.md): `GET /api/runs/:id` of a finished run and `GET
 * /metrics`, each at a steady 200 requests/s (open loop: latency counts from when a request was due, so a slow
 * answer cannot hide the ones queued behind it) and flat out with 8 connections; `GET /healthz`, which touches
 * nothing but the server, is the baseline measured the same way in the same run.
 *
 * Then the time from an approval to the deployment workflow's update result, on a canary waiting on one approval
 * gate after another: pressing Slack's **Approve** button (a signed `POST /slack/interactions`, answered once the
 * update has returned), `POST /api/deployments/…/approve`, and the baseline, the same update sent straight from a
 * Temporal client; the three take turns on consecutive gates.
 *
 * Needs the embedded stack (`bin/conveyor dev up`): the server runs in its own process (the compiled `dist/`, as
 * `dev up` runs it) on a free port with a configuration file of its own; the finished run is started through it,
 * and the deployment runs on the stack's worker (and is destroyed at the end).
 *
 * Usage: npx tsx bench/api.ts [rounds=3] [seconds=10]
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { newToken } from '../config/access-tokens';
import { gateActions } from '../activities/slack-gate-message';
import { requestRollout } from '../client/deployments';
import { deploymentWorkflowId } from '../deploy/names';
import { approveUpdate, statusQuery } from '../workflows/deployment-messages';
import { loadConfig } from '../workers/config';
import { destroyDeployment, ensureServiceImage, testSpec } from '../test/helpers/deployments';
import { SlackReceiver } from '../test/helpers/slack-receiver';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 10);
const rate = 200;
const root = path.resolve(__dirname, '..');

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One GET; resolves with its status once the whole body has arrived. */
function get(port: number, urlPath: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: urlPath, agent, headers: { authorization: `Bearer ${token}` } },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.once('error', reject);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** The middle value (the lower one of an even count); bench/harness.ts is not imported: it installs a Temporal runtime. */
const median = (values: number[]) => percentile(values, 50);

/** `rate` requests per second for `seconds`, each due at its slot; latency from the slot to the last byte. */
async function steady(port: number, urlPath: string, token: string) {
  const total = rate * seconds;
  const latencies: number[] = [];
  let failures = 0;
  const start = performance.now() + 20;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      get(port, urlPath, token).then(
        (status) => {
          if (status !== 200) failures += 1;
          latencies.push(performance.now() - due);
        },
        () => {
          failures += 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), achieved: total / elapsed, failures };
}

/** As many requests as 8 connections manage in `seconds`. */
async function flatOut(port: number, urlPath: string, token: string) {
  const end = performance.now() + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < end) {
        await get(port, urlPath, token);
        count += 1;
      }
    }),
  );
  return count / seconds;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function main(): Promise<void> {
  execFileSync(path.join(root, 'scripts/build'), { stdio: 'inherit' });
  const dir = mkdtempSync(path.join(tmpdir(), 'conveyor-bench-api-'));
  const { token, entry } = newToken('bench');
  writeFileSync(
    path.join(dir, 'conveyor.config.yml'),
    stringify({
      access: {
        users: { bench: { roles: ['operator'], environments: { bench: ['approver'] }, slack: 'U0BENCH01' } },
        tokens: [entry],
      },
    }),
  );
  const port = await freePort();
  const server = spawn(process.execPath, [path.join(root, 'dist/server/main.js')], {
    env: {
      ...process.env,
      CONVEYOR_CONFIG: path.join(dir, 'conveyor.config.yml'),
      CONVEYOR_API_PORT: String(port),
      CONVEYOR_SLACK_SIGNING_SECRET: signingSecret,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  // Only the start-up lines are kept: the request log of a benchmark is megabytes.
  server.stdout.on('data', (chunk: Buffer) => {
    if (!output.includes('server ready')) output += chunk.toString();
  });
  try {
    for (let i = 0; i < 300 && !output.includes('server ready'); i += 1) await new Promise((r) => setTimeout(r, 100));
    if (!output.includes('server ready')) throw new Error(`the server did not start:\n${output}`);

    const started = await fetch(`http://127.0.0.1:${port}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pipeline: readFileSync(path.join(root, 'examples/hello.yml'), 'utf8') }),
    });
    const { runId } = (await started.json()) as { runId: string };
    for (;;) {
      const status = (await (
        await fetch(`http://127.0.0.1:${port}/api/runs/${runId}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { status: string };
      if (status.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 300));
    }
    console.log(`finished run ${runId}; ${rounds} rounds of ${seconds} s per endpoint`);

    const targets = { baseline: '/healthz', run: `/api/runs/${runId}`, metrics: '/metrics' } as const;
    const results: Record<keyof typeof targets, { p50: number[]; p99: number[]; achieved: number[]; max: number[] }> = {
      baseline: { p50: [], p99: [], achieved: [], max: [] },
      run: { p50: [], p99: [], achieved: [], max: [] },
      metrics: { p50: [], p99: [], achieved: [], max: [] },
    };
    for (const urlPath of Object.values(targets)) await flatOut(port, urlPath, token); // warm-up
    for (let round = 0; round < rounds; round += 1) {
      for (const [name, urlPath] of Object.entries(targets) as [keyof typeof targets, string][]) {
        const measured = await steady(port, urlPath, token);
        if (measured.failures > 0) console.log(`  ${name}: ${measured.failures} failed requests`);
        results[name].p50.push(measured.p50);
        results[name].p99.push(measured.p99);
        results[name].achieved.push(measured.achieved);
        results[name].max.push(await flatOut(port, urlPath, token));
      }
    }
    const base = median(results.baseline.p99);
    console.log(
      '\nendpoint                 rate (req/s)  p50 (ms)  p99 (ms)  p99 vs /healthz  flat out (req/s, 8 conns)',
    );
    for (const [name, urlPath] of Object.entries(targets) as [keyof typeof targets, string][]) {
      const r = results[name];
      const label = name === 'run' ? 'GET /api/runs/:id' : `GET ${urlPath}`;
      console.log(
        `${label.padEnd(24)} ${median(r.achieved).toFixed(0).padStart(12)}  ${median(r.p50).toFixed(2).padStart(8)}  ` +
          `${median(r.p99).toFixed(2).padStart(8)}  ${(median(r.p99) / base).toFixed(2).padStart(15)}  ` +
          `${median(r.max).toFixed(0).padStart(10)}`,
      );
    }
    await approvals(port, token);
  } finally {
    server.kill('SIGTERM');
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const signingSecret = 'bench-signing-secret';

/** Approval → update result, over consecutive gates of one canary rollout (Slack, API, direct update in turn). */
async function approvals(port: number, token: string): Promise<void> {
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const slack = await new SlackReceiver().start();
  const service = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const environment = 'bench';
  const ways = ['slack', 'api', 'update'] as const;
  const gates = Array.from({ length: rounds * 5 * ways.length }, (_, i) => `g${i + 1}`);
  const times: Record<(typeof ways)[number], number[]> = { slack: [], api: [], update: [] };
  const handle = client.workflow.getHandle(deploymentWorkflowId(service, environment));
  try {
    await Promise.all(['v1', 'v2'].map(ensureServiceImage));
    const routerPort = await freePort();
    const spec = (version: string, steps?: unknown[]) =>
      testSpec({
        service,
        version,
        environment,
        routerPort,
        strategy: 'canary',
        ...(steps ? { canary: { steps } } : {}),
      });
    const placement = { taskQueue: config.taskQueues.workflows };
    const requestedBy = { user: 'bench', channel: 'cli' };
    await requestRollout(client, { id: `${service}-v1`, spec: spec('v1'), requestedBy }, placement);
    const steps = [{ set_weight: 10 }, ...gates.map((name) => ({ approval: { name, approvers: ['bench'] } }))];
    await requestRollout(client, { id: `${service}-v2`, spec: spec('v2', steps), requestedBy }, placement);
    for (const [index, gate] of gates.entries()) {
      for (let i = 0; (await handle.query(statusQuery)).gate?.name !== gate; i += 1) {
        if (i > 6000) throw new Error(`gate ${gate} did not open`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const way = ways[index % ways.length]!;
      const started = performance.now();
      if (way === 'slack') {
        const answer = await slack.press({
          url: `http://127.0.0.1:${port}/slack/interactions`,
          signingSecret,
          slackUserId: 'U0BENCH01',
          actionId: gateActions.approve,
          value: JSON.stringify({ service, environment, gate }),
        });
        if (answer.status !== 200) throw new Error(`the press answered ${answer.status}: ${answer.body}`);
      } else if (way === 'api') {
        const answer = await fetch(`http://127.0.0.1:${port}/api/deployments/${service}/${environment}/approve`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ gate }),
        });
        if (answer.status !== 200) throw new Error(`the API answered ${answer.status}: ${await answer.text()}`);
      } else {
        await handle.executeUpdate(approveUpdate, { args: [{ user: 'bench', channel: 'cli', gate }] });
      }
      times[way].push(performance.now() - started);
      const decided = (await handle.query(statusQuery)).approvals.find((d) => d.gate === gate);
      if (decided?.decision !== 'approved')
        throw new Error(`gate ${gate} was not approved (${JSON.stringify(decided)})`);
    }
    const base = median(times.update);
    console.log(
      `\napproval → update result (${gates.length / ways.length} gates each)   median (ms)  p90 (ms)  vs update`,
    );
    for (const way of ways) {
      const label = {
        slack: 'Slack button press (signed POST)',
        api: 'POST /api/deployments/…/approve',
        update: 'update from a Temporal client',
      }[way];
      console.log(
        `${label.padEnd(40)} ${median(times[way]).toFixed(1).padStart(11)}  ${percentile(times[way], 90).toFixed(1).padStart(8)}  ` +
          `${(median(times[way]) / base).toFixed(2).padStart(9)}`,
      );
    }
  } finally {
    await destroyDeployment(client, service, environment);
    await slack.stop();
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
