/**
 * DEP-061 on the real stack (docs/deployments.md#significance): a relative latency threshold does not roll back a
 * canary whose difference is not significant. The canary answers 1 s late, so its p95 is far above 1.5 × stable's,
 * but it gets one request per window (routed by the tester header, at most one per analysis window) against about a
 * dozen to stable: with one sample the Mann-Whitney test cannot reach 95 %, so every such measurement passes as
 * "not significant" and the rollout completes. The embedded Prometheus scrapes the router's per-version counters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  deploymentLeftovers,
  destroyDeployment,
  ensureServiceImage,
  freePort,
  get,
  rollout,
  testSpec,
  uniqueService,
  waitForStatus,
} from '../helpers/deployments';
import { closeTestEnvironment, config, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

/** A Prometheus instant query's answer. */
interface PrometheusAnswer {
  data: { result: Array<{ metric: Record<string, string> }> };
}

/** Polls `check` until it returns a value (generous timeout: the machine may be loaded). */
async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    await delay(500);
  }
  throw new Error(`timed out waiting for ${what} ${last}`);
}

/** Sends a request with the tester header every `gapMs` until stopped. */
function taggedTraffic(port: number, version: 'stable' | 'canary', gapMs: number) {
  let running = true;
  const loop = (async () => {
    while (running) {
      await get(port, { 'X-Conveyor-Version': version });
      await delay(gapMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('canary analysis significance', () => {
  before(async () => {
    await Promise.all(['v1', 'v2'].map(ensureServiceImage));
  });
  after(closeTestEnvironment);

  it('does not roll back a canary whose higher latency is not significant (one request per window)', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('deploy-significance');
    const service = uniqueService('signif');
    const routerPort = await freePort();
    const spec = (version: string, extra: Record<string, unknown> = {}) =>
      testSpec({ service, version, routerPort, replicas: 1, strategy: 'canary', ...extra });
    const streams: Array<{ stop: () => Promise<void> }> = [];
    await withWorkers(taskQueue, async () => {
      try {
        await rollout(client, taskQueue, spec('v1'));
        await waitForStatus(client, service, 'test', (s) => s.state === 'complete', 'v1 live');
        streams.push(taggedTraffic(routerPort, 'stable', 400));
        await rollout(
          client,
          taskQueue,
          spec('v2', {
            env: { DELAY_MS: 1000 },
            canary: {
              analysis: {
                interval: 2,
                min_requests: 1,
                failure_limit: 0,
                inconclusive_limit: 100,
                metrics: [{ name: 'latency_p95', max_ratio_to_stable: 1.5 }],
              },
              steps: [{ set_weight: 1 }, { pause: 24 }],
            },
          }),
        );
        await waitForStatus(client, service, 'test', (s) => s.step?.kind === 'pause', 'the pause');
        // More than the longest window apart: never two canary requests in one measurement.
        streams.push(taggedTraffic(routerPort, 'canary', 6000));
        const done = await waitForStatus(
          client,
          service,
          'test',
          (s) => !s.rollout && s.history.length === 2,
          'the rollout to end',
          300_000,
        );
        assert.equal(done.state, 'complete', JSON.stringify(done.lastRollback));
        assert.equal(done.stable?.version, 'v2');
        const latency = done.analysis.flatMap((m) => m.metrics).filter((m) => m.name === 'latency_p95');
        const notSignificant = latency.filter((m) => m.verdict === 'pass' && /not significant/.test(m.reason));
        assert.ok(
          notSignificant.length > 0,
          `no measurement found the canary slower but not significantly: ${JSON.stringify(latency)}`,
        );
        for (const metric of notSignificant) {
          assert.ok((metric.value as number) > 1.5 * (metric.stable as number), JSON.stringify(metric));
          assert.ok((metric.pValue ?? 0) >= 0.05, JSON.stringify(metric));
        }
        assert.deepEqual(
          latency.filter((m) => m.verdict === 'fail'),
          [],
        );

        // The embedded Prometheus scrapes the router: its per-version request counters for this service.
        const query = `sum by (version) (conveyor_router_requests_total{service="${service}"})`;
        const scraped = await waitFor(async () => {
          const url = `${config.prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`;
          const body = (await (await fetch(url)).json()) as PrometheusAnswer;
          const versions = body.data.result.map((series) => series.metric.version).sort();
          return versions.includes('v1') && versions.includes('v2') ? versions : undefined;
        }, 'Prometheus to scrape the router');
        assert.deepEqual(scraped, ['v1', 'v2']);
      } finally {
        for (const stream of streams) await stream.stop();
        await destroyDeployment(client, service);
      }
    });
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
