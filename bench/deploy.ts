/**
 * Deployment figures (docs/deployments.md), on the real dev server, Docker engine and builtin router:
 *
 * 1. The router's added latency: sequential requests alternating between the router and the service container's
 *    published port (so a burst of load on the shared machine hits both sides alike), the median through the router
 *    minus the median direct (target ≤ 1 ms). Measured twice: a new connection per request (as curl), and one
 *    kept-alive connection per side (as a browser or an HTTP client library).
 * 2. Throughput through the router against direct, 16 connections at a time for 3 s each.
 * 3. One weight change end to end: a `promote` update to the router serving the new weight (GET /routes), median of
 *    several `set_weight` steps (target ≤ 200 ms).
 * 4. Rollback time: from the failing analysis measurement (its time) to the router serving 100 % stable
 *    (target ≤ 1 s), median of several canaries whose error rate fails.
 * 5. A no-pause canary of 5 steps end to end, against starting the containers it needs (canary and the new stable
 *    release) straight with dockerode and waiting until they answer.
 *
 * Figures 3 and 4 come with where their milliseconds went (bench/deploy-timeline.ts): the deployment workflow's
 * history between the start and the router serving the new table — workflow task, activity dispatch, activity work.
 *
 * Needs the embedded stack (`conveyor dev up`). Run: `npx tsx bench/deploy.ts [rounds] [latency|weight|rollback]`
 * (the last: stop after that figure). Removes every service
 * container, router and network it created, even when it fails.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { routerAdminPort } from '../activities/router-admin';
import type { RouteTable } from '../deploy/route-table';
import { deployLabels, deploymentWorkflowId } from '../deploy/names';
import { promoteUpdate } from '../workflows/deployment-messages';
import {
  destroyDeployment,
  ensureServiceImage,
  freePort,
  get,
  rollout,
  serviceImage,
  testSpec,
  uniqueService,
  waitForStatus,
} from '../test/helpers/deployments';
import { closeTestEnvironment, docker, testEnvironment, uniqueTaskQueue, withWorkers } from '../test/helpers/temporal';
import { describePaths, moments, path as timeline, type Moment } from './deploy-timeline';

const execFileAsync = promisify(execFile);
const rounds = Number(process.argv[2] ?? 3);
/** `latency`, `weight` or `rollback`: stop after that figure (for a quick look at one of them). */
const stopAfter = process.argv[3];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
const environment = 'test';

async function routes(adminPort: number): Promise<RouteTable> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/routes`);
  return ((await response.json()) as { table: RouteTable }).table;
}

/** Polls the router's table every 2 ms until `done` holds; returns when (performance.now()). */
async function until(adminPort: number, done: (table: RouteTable) => boolean, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (done(await routes(adminPort))) return performance.now();
    await delay(2);
  }
  throw new Error('the router never served the expected table');
}

/** Medians through the router and direct, measured by bench/paired-latency.ts in a process of its own. */
async function pairedLatencies(
  routerPort: number,
  directPort: number,
  count: number,
  keepAlive: boolean,
): Promise<{ router: number; direct: number }> {
  const args = ['--import', 'tsx', path.join(__dirname, 'paired-latency.ts'), String(routerPort), String(directPort)];
  const { stdout } = await execFileAsync(process.execPath, [...args, String(count), keepAlive ? 'keep' : 'new']);
  const { a, b } = JSON.parse(stdout) as { a: number; b: number };
  return { router: a, direct: b };
}

async function throughput(port: number, seconds: number, concurrency = 16): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const answer = await get(port);
        if (!answer.error) done += 1;
      }
    }),
  );
  return done / seconds;
}

async function instancePort(service: string): Promise<number> {
  const [container] = await docker.listContainers({
    filters: {
      label: [
        `${deployLabels.deployment}=${deploymentWorkflowId(service, environment)}`,
        `${deployLabels.role}=instance`,
      ],
    },
  });
  const port = container?.Ports.find((p) => p.PrivatePort === 8080 && p.PublicPort)?.PublicPort;
  if (!port) throw new Error('no published instance port');
  return port;
}

/** Starts `count` service containers straight with dockerode and waits until each answers; removes them. */
async function rawStart(count: number): Promise<number> {
  const start = performance.now();
  const containers = await Promise.all(
    Array.from({ length: count }, async () => {
      const container = await docker.createContainer({
        Image: serviceImage('v2'),
        Labels: { 'conveyor.test': 'bench-deploy' },
        ExposedPorts: { '8080/tcp': {} },
        HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
      });
      await container.start();
      return container;
    }),
  );
  try {
    await Promise.all(
      containers.map(async (container) => {
        const info = await container.inspect();
        const port = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
        for (;;) {
          const answer = await get(port, {}, '/cgi-bin/health');
          if (answer.status === 200) return;
          await delay(20);
        }
      }),
    );
    return performance.now() - start;
  } finally {
    await Promise.all(containers.map((c) => c.remove({ force: true }).catch(() => undefined)));
  }
}

async function main(): Promise<void> {
  await Promise.all(['v1', 'v2', 'v3'].map(ensureServiceImage));
  const { client } = await testEnvironment();
  const taskQueue = uniqueTaskQueue('bench-deploy');
  const service = uniqueService('bench');
  const routerPort = await freePort();
  const spec = (version: string, extra: Record<string, unknown> = {}) =>
    testSpec({ service, version, routerPort, replicas: 1, strategy: 'canary', ...extra });
  const handle = client.workflow.getHandle(deploymentWorkflowId(service, environment));
  let revisions = 0;
  const live = async (version: string, extra: Record<string, unknown> = {}) => {
    await rollout(client, taskQueue, spec(version, extra));
    revisions += 1;
    const expected = revisions;
    return waitForStatus(
      client,
      service,
      environment,
      (s) => s.history.length >= expected && !s.rollout,
      'the rollout',
      300_000,
    );
  };

  await withWorkers(taskQueue, async () => {
    try {
      await live('v1');
      const adminPort = await routerAdminPort(docker, { service, environment });

      // 1 and 2: the router against the container itself.
      const direct = await instancePort(service);
      const rates: Array<[number, number]> = [];
      const fresh: Array<{ router: number; direct: number }> = [];
      const kept: Array<{ router: number; direct: number }> = [];
      for (let round = 0; round < rounds; round += 1) {
        fresh.push(await pairedLatencies(routerPort, direct, 200, false));
        kept.push(await pairedLatencies(routerPort, direct, 200, true));
        rates.push([await throughput(routerPort, 3), await throughput(direct, 3)]);
      }
      for (const [label, values] of [
        ['a new connection per request', fresh],
        ['one kept-alive connection', kept],
      ] as const) {
        const routed = median(values.map((v) => v.router));
        const straight = median(values.map((v) => v.direct));
        console.log(
          `router latency, ${label}: ${routed.toFixed(2)} ms median through the router, ${straight.toFixed(2)} ms direct; added ${median(values.map((v) => v.router - v.direct)).toFixed(2)} ms (ratio ${(routed / straight).toFixed(2)}; target ≤ 1 ms added)`,
        );
      }
      const routerRate = median(rates.map(([r]) => r));
      const directRate = median(rates.map(([, d]) => d));
      console.log(
        `router throughput (16 connections, 2 cores shared): ${routerRate.toFixed(0)} req/s through the router, ${directRate.toFixed(0)} req/s direct (ratio ${(routerRate / directRate).toFixed(2)})`,
      );

      if (stopAfter === 'latency') return;

      // 3: weight changes, promote → router.
      const weights = [10, 20, 30, 40, 50, 60];
      await rollout(
        client,
        taskQueue,
        spec('v2', { canary: { steps: weights.flatMap((weight) => [{ set_weight: weight }, { pause: {} }]) } }),
      );
      revisions += 1;
      await until(adminPort, (table) => table.canary.weight === weights[0]);
      await waitForStatus(client, service, environment, (s) => s.step?.kind === 'pause', 'the first pause');
      const changes: number[] = [];
      const windows: Array<[number, number]> = [];
      const weightRun = (await handle.describe()).runId;
      for (const weight of weights.slice(1)) {
        const start = performance.now();
        await handle.executeUpdate(promoteUpdate, { args: [{ user: 'bench' }] });
        const confirmed = await until(adminPort, (table) => table.canary.weight === weight);
        changes.push(confirmed - start);
        windows.push([performance.timeOrigin + start, performance.timeOrigin + confirmed]);
        await waitForStatus(client, service, environment, (s) => s.step?.kind === 'pause', 'the next pause');
      }
      const weightMoments = await moments(client, handle.workflowId, weightRun);
      // The router's own confirmation races the bench's poll of it; only the bench's is on every round's path.
      const confirmations = weightMoments.filter((moment) => !moment.label.startsWith('router serves'));
      const weightPaths = windows.map(([from, to]) =>
        timeline(confirmations, from, to, 'promote sent', 'bench sees the weight (GET /routes)'),
      );
      await handle.executeUpdate(promoteUpdate, { args: [{ user: 'bench', full: true }] });
      await waitForStatus(client, service, environment, (s) => s.state === 'complete', 'v2 live', 300_000);
      console.log(
        `weight change end to end: ${median(changes).toFixed(0)} ms median of ${changes.length} (target ≤ 200 ms)`,
      );
      for (const line of describePaths(weightPaths)) console.log(line);

      if (stopAfter === 'weight') return;

      // 4: rollback time, failing measurement → router serving only stable.
      const rollbacks: number[] = [];
      const rollbackPaths: Moment[][] = [];
      for (let round = 0; round < rounds; round += 1) {
        let stopped = false;
        const traffic = (async () => {
          const stopAt = Date.now() + 120_000;
          while (Date.now() < stopAt && !stopped) await get(routerPort);
        })();
        await rollout(
          client,
          taskQueue,
          spec('v3', {
            env: { ERROR_PERCENT: 40 },
            canary: {
              analysis: { interval: 1, min_requests: 10, metrics: [{ name: 'error_rate', max: 0.05 }] },
              steps: [{ set_weight: 50 }, { pause: 300 }],
            },
          }),
        );
        revisions += 1;
        await until(adminPort, (table) => table.canary.weight > 0 && table.canary.backends.length > 0);
        const rolloutRun = (await handle.describe()).runId;
        const confirmed = await until(
          adminPort,
          (table) => table.canary.weight === 0 || table.canary.backends.length === 0,
        );
        const confirmedAt = performance.timeOrigin + confirmed;
        const done = await waitForStatus(
          client,
          service,
          environment,
          (s) => s.state === 'rolled_back' && !s.rollout,
          'rolled back',
        );
        stopped = true;
        await traffic;
        const failing = done.lastRollback?.evidence?.measurement?.at;
        if (!failing) throw new Error(`no failing measurement: ${JSON.stringify(done.lastRollback)}`);
        rollbacks.push(confirmedAt - Date.parse(failing));
        const events = await moments(client, handle.workflowId, rolloutRun);
        rollbackPaths.push(
          timeline(events, Date.parse(failing), confirmedAt, 'failing measurement (at)', 'bench sees 100 % stable'),
        );
      }
      console.log(
        `rollback time: ${median(rollbacks).toFixed(0)} ms median from the failing measurement to 100 % stable in the router (${rollbacks.map((v) => v.toFixed(0)).join(', ')}; target ≤ 1 s)`,
      );
      for (const line of describePaths(rollbackPaths)) console.log(line);

      if (stopAfter === 'rollback') return;

      // 5: a no-pause canary of 5 steps against starting its containers directly.
      const canaries: number[] = [];
      const raw: number[] = [];
      for (let round = 0; round < rounds; round += 1) {
        const version = round % 2 === 0 ? 'v1' : 'v2';
        const start = performance.now();
        await live(version, {
          canary: {
            steps: [
              { set_weight: 20 },
              { set_weight: 40 },
              { set_weight: 60 },
              { set_weight: 80 },
              { set_weight: 100 },
            ],
          },
        });
        canaries.push(performance.now() - start);
        raw.push(await rawStart(2));
      }
      console.log(
        `no-pause canary of 5 steps: ${(median(canaries) / 1000).toFixed(2)} s median end to end, against ${(median(raw) / 1000).toFixed(2)} s to start and answer from its 2 containers directly (ratio ${(median(canaries) / median(raw)).toFixed(2)})`,
      );
    } finally {
      await destroyDeployment(client, service);
      for (const container of await docker.listContainers({
        all: true,
        filters: { label: ['conveyor.test=bench-deploy'] },
      })) {
        await docker
          .getContainer(container.Id)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
  });
  await closeTestEnvironment();
}

main().then(
  // Everything it created is removed by now; a worker's last polls must not keep the process alive.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
