/**
 * The control plane's server under load (docs/benchmarks.md): `GET /api/runs/:id` of a finished run and `GET
 * /metrics`, each at a steady 200 requests/s (open loop: latency counts from when a request was due, so a slow
 * answer cannot hide the ones queued behind it) and flat out with 8 connections; `GET /healthz`, which touches
 * nothing but the server, is the baseline measured the same way in the same run.
 *
 * Needs the embedded stack (`bin/conveyor dev up`): the server runs in its own process (the compiled `dist/`, as
 * `dev up` runs it) on a free port with a configuration file of its own; the finished run is started through it.
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
import { newToken } from '../config/access-tokens';
import { median } from './harness';

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
    stringify({ access: { users: { bench: { roles: ['operator'] } }, tokens: [entry] } }),
  );
  const port = await freePort();
  const server = spawn(process.execPath, [path.join(root, 'dist/server/main.js')], {
    env: { ...process.env, CONVEYOR_CONFIG: path.join(dir, 'conveyor.config.yml'), CONVEYOR_API_PORT: String(port) },
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
  } finally {
    server.kill('SIGTERM');
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
