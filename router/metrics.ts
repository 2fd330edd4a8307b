/**
 * The router's Prometheus metrics (docs/deployments.md#metrics), served on the admin port's /metrics and scraped
 * by the embedded Prometheus: requests by track, version and status class, latency histograms, weights.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RouteTable } from '../deploy/route-table';
import type { Sample } from './samples';

/** The router's metric registry and how samples and tables update it. */
export function createRouterMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'conveyor_router_' });
  const requests = new Counter({
    name: 'conveyor_router_requests_total',
    help: 'Requests served, by track, version and status class (2xx, 3xx, 4xx, 5xx).',
    labelNames: ['track', 'version', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'conveyor_router_request_duration_seconds',
    help: 'Time from receiving a request to the end of its answer, by track and version.',
    labelNames: ['track', 'version'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const weight = new Gauge({
    name: 'conveyor_router_weight',
    help: 'Share of traffic (%) per track.',
    labelNames: ['track'],
    registers: [registry],
  });
  const backends = new Gauge({
    name: 'conveyor_router_backends',
    help: 'Backends in rotation per track.',
    labelNames: ['track'],
    registers: [registry],
  });
  const generation = new Gauge({
    name: 'conveyor_router_generation',
    help: 'Route table generation served now.',
    registers: [registry],
  });
  return {
    registry,
    /** Counts a finished request. */
    observe(sample: Sample): void {
      const code = `${Math.floor(sample.status / 100)}xx`;
      requests.inc({ track: sample.track, version: sample.version, code });
      duration.observe({ track: sample.track, version: sample.version }, sample.latencyMs / 1000);
    },
    /** Publishes a newly applied table. */
    applied(table: RouteTable, current: number): void {
      weight.set({ track: 'stable' }, table.stable.weight);
      weight.set({ track: 'canary' }, table.canary.weight);
      backends.set({ track: 'stable' }, table.stable.backends.length);
      backends.set({ track: 'canary' }, table.canary.backends.length);
      backends.set({ track: 'preview' }, table.preview.length);
      generation.set(current);
    },
  };
}

/** The metrics object of a router. */
export type RouterMetrics = ReturnType<typeof createRouterMetrics>;
