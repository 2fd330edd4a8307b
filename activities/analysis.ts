/**
 * One analysis measurement (docs/deployments.md#analysis): wait out the window, read every request the router saw
 * in it — per version, with raw latencies — query Prometheus for `prometheus:` metrics, and judge it
 * (deploy/analysis.ts). The result is small: values, thresholds, p-values and counts, never the samples.
 */
import type Docker from 'dockerode';
import {
  builtinValue,
  judgeMeasurement,
  type Measurement,
  type PrometheusValues,
  type TrafficWindow,
} from '../deploy/analysis';
import type { TrackName } from '../deploy/route-table';
import type { AnalysisSpec } from '../deploy/spec';
import type { SampleWindow } from '../router/samples';
import { sleepUnlessAborted, type DeploymentRef } from './deployment-docker';
import { fetchSamples } from './router-admin';

/** Input of `measure`. */
export interface MeasureInput extends DeploymentRef {
  analysis: AnalysisSpec;
  /** `background` or `step N`, recorded with the measurement. */
  source: string;
  /** The version under analysis and the router track it is served on (`canary`; blue-green after its switch: `stable`). */
  canary: { version: string; track: TrackName };
  /**
   * What it is compared with: a track over the same window (canary), or over an earlier `window` (blue-green: the
   * old colour before the switch; ms since the epoch).
   */
  stable: { version: string; track: TrackName; window?: { from: number; to: number } };
  /** Length of the window: the measurement ends this many seconds after it starts. */
  windowSeconds: number;
}

/** The requests served on `track` in a sample window. */
export function trafficOf(samples: SampleWindow, track: TrackName, seconds: number): TrafficWindow {
  const trackIndex = samples.tracks.indexOf(track);
  const window: TrafficWindow = { requests: 0, errors: 0, latenciesMs: [], seconds };
  for (const [, trackOf, , , status, latency] of samples.rows) {
    if (trackOf !== trackIndex) continue;
    window.requests += 1;
    if (status >= 500) window.errors += 1;
    window.latenciesMs.push(latency);
  }
  return window;
}

/** Fills a PromQL template's placeholders. */
export function fillQuery(query: string, values: Record<string, string>): string {
  return query.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}

async function promQuery(prometheusUrl: string, query: string, at: number): Promise<number | null> {
  const url = `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}&time=${at / 1000}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: unknown };
  };
  if (body.status !== 'success') throw new Error(`Prometheus refused the query: ${body.error ?? response.status}`);
  const result = body.data?.result;
  if (body.data?.resultType === 'scalar') return Number((result as [number, string])[1]);
  const vector = result as Array<{ value: [number, string] }>;
  return vector.length > 0 ? Number(vector[0]!.value[1]) : null;
}

/** Runs the `prometheus:` metrics' queries for the canary (and stable when compared). */
async function prometheusValues(
  input: MeasureInput,
  prometheusUrl: string | undefined,
  at: number,
): Promise<Record<string, PrometheusValues>> {
  const values: Record<string, PrometheusValues> = {};
  for (const metric of input.analysis.metrics) {
    if (!metric.prometheus) continue;
    if (!prometheusUrl) {
      values[metric.name] = { error: 'no Prometheus is configured (CONVEYOR_PROMETHEUS_URL)' };
      continue;
    }
    const base = { service: input.service, environment: input.environment, window: `${input.windowSeconds}s` };
    try {
      const canary = await promQuery(prometheusUrl, fillQuery(metric.prometheus, { ...base, ...input.canary }), at);
      const stable =
        metric.maxRatioToStable === undefined
          ? undefined
          : await promQuery(
              prometheusUrl,
              fillQuery(metric.prometheus, { ...base, track: input.stable.track, version: input.stable.version }),
              at,
            );
      values[metric.name] = { canary, stable };
    } catch (error) {
      values[metric.name] = { error: `Prometheus query failed: ${(error as Error).message}` };
    }
  }
  return values;
}

/** Waits out the window, then measures and judges it. */
export async function measure(
  docker: Docker,
  prometheusUrl: string | undefined,
  input: MeasureInput,
  signal: AbortSignal,
  beat: () => void = () => {},
): Promise<Measurement> {
  const from = Date.now();
  const to = from + input.windowSeconds * 1000;
  while (Date.now() < to) {
    beat();
    await sleepUnlessAborted(Math.min(1000, to - Date.now()), signal);
  }
  // The router records a request when its answer ends: give the last ones of the window a moment to land.
  await sleepUnlessAborted(150, signal);
  const samples = await fetchSamples(docker, input, from, to);
  const canary = trafficOf(samples, input.canary.track, input.windowSeconds);
  const earlier = input.stable.window;
  const stableSamples = earlier ? await fetchSamples(docker, input, earlier.from, earlier.to) : samples;
  const stableSeconds = earlier ? (earlier.to - earlier.from) / 1000 : input.windowSeconds;
  const stable = trafficOf(stableSamples, input.stable.track, stableSeconds);
  const prometheus = await prometheusValues(input, prometheusUrl, to);
  const judged = judgeMeasurement(input.analysis, { canary, stable, prometheus });
  return {
    at: new Date().toISOString(),
    source: input.source,
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), seconds: input.windowSeconds },
    requests: { canary: canary.requests, stable: stable.requests },
    verdict: judged.verdict,
    metrics: judged.metrics,
  };
}

/** A track's traffic over a window in numbers: the baseline recorded before a rollout (DEP-008). */
export interface TrafficSummary {
  window: { from: string; to: string; seconds: number };
  requests: number;
  /** Requests per second. */
  requestRate: number;
  /** Share of 5xx answers; null without requests. */
  errorRate: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

/** Summarises what `track` served over the last `seconds`. */
export async function summarize(
  docker: Docker,
  input: DeploymentRef & { track: TrackName; seconds: number },
): Promise<TrafficSummary> {
  const to = Date.now();
  const from = to - input.seconds * 1000;
  const window = trafficOf(await fetchSamples(docker, input, from, to), input.track, input.seconds);
  const value = (name: string) => builtinValue(name, window);
  const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
  return {
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), seconds: input.seconds },
    requests: window.requests,
    requestRate: round(value('request_rate')) ?? 0,
    errorRate: round(value('error_rate')),
    latencyMs: { p50: round(value('latency_p50')), p95: round(value('latency_p95')), p99: round(value('latency_p99')) },
  };
}
