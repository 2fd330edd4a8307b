/**
 * Judging one analysis measurement (docs/deployments.md#analysis): each metric's conditions against the canary's
 * window of traffic, with the `min_requests` floor and, for relative conditions, a significance test (DEP-061), and
 * keeping count of failed and inconclusive measurements over an analysis run.
 */
import { isBuiltinMetric, latencyQuantile } from './metrics';
import type { AnalysisSpec, MetricSpec } from './spec';
import { mannWhitneyTest, percentile, twoProportionTest } from './statistics';

/** What the router saw for one version over one window. */
export interface TrafficWindow {
  requests: number;
  /** Answers with a 5xx status (the router's own 502/503 included). */
  errors: number;
  /** Per-request latencies in ms (every request of the window, or a uniform sample of them). */
  latenciesMs: number[];
  /** Length of the window in seconds. */
  seconds: number;
}

/** A Prometheus metric's values for the canary and (when compared) stable, or why there is none. */
export interface PrometheusValues {
  canary?: number | null;
  stable?: number | null;
  error?: string;
}

/** Everything one measurement judges. */
export interface MeasurementInput {
  canary: TrafficWindow;
  /** The stable version over the same window (canary), or its baseline before the switch (blue-green). */
  stable?: TrafficWindow;
  /** Values of `prometheus:` metrics by metric name. */
  prometheus?: Record<string, PrometheusValues>;
}

/** A measurement's (or one metric's) verdict. */
export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** One metric of one measurement, with what it was compared against. */
export interface MetricResult {
  name: string;
  verdict: Verdict;
  /** The canary's value (ms for latencies, a share for error_rate, per second for request_rate). */
  value: number | null;
  /** Stable's value when a condition compared with it. */
  stable?: number | null;
  /** The conditions as written, e.g. `max 0.05, max_ratio_to_stable 1.5`. */
  condition: string;
  /** Why this verdict, in words. */
  reason: string;
  /** The significance test's one-sided p-value, when one ran. */
  pValue?: number;
}

/** The verdict on one measurement. */
export interface MeasurementVerdict {
  verdict: Verdict;
  metrics: MetricResult[];
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 10_000) / 10_000 : value;
}

function describeConditions(metric: MetricSpec): string {
  const parts: string[] = [];
  if (metric.max !== undefined) parts.push(`max ${metric.max}`);
  if (metric.min !== undefined) parts.push(`min ${metric.min}`);
  if (metric.maxRatioToStable !== undefined) parts.push(`max_ratio_to_stable ${metric.maxRatioToStable}`);
  return parts.join(', ');
}

/** The value of a built-in metric over a window; null when the window has no requests to measure it on. */
export function builtinValue(name: string, window: TrafficWindow): number | null {
  if (name === 'request_rate') return window.seconds > 0 ? window.requests / window.seconds : null;
  if (window.requests === 0) return null;
  if (name === 'error_rate') return window.errors / window.requests;
  const quantile = latencyQuantile(name);
  if (quantile === undefined || window.latenciesMs.length === 0) return null;
  return (
    percentile(
      [...window.latenciesMs].sort((a, b) => a - b),
      quantile,
    ) ?? null
  );
}

/** Absolute conditions; returns a failing reason or undefined. */
function absoluteFailure(metric: MetricSpec, value: number): string | undefined {
  if (metric.max !== undefined && value > metric.max) return `${metric.name} ${round(value)} > max ${metric.max}`;
  if (metric.min !== undefined && value < metric.min) return `${metric.name} ${round(value)} < min ${metric.min}`;
  return undefined;
}

function judgeBuiltin(metric: MetricSpec, spec: AnalysisSpec, input: MeasurementInput): MetricResult {
  const condition = describeConditions(metric);
  const base = { name: metric.name, condition };
  const floored = metric.name !== 'request_rate';
  if (floored && input.canary.requests < spec.minRequests) {
    return {
      ...base,
      verdict: 'inconclusive',
      value: builtinValue(metric.name, input.canary),
      reason: `only ${input.canary.requests} requests to the canary in the window (min_requests ${spec.minRequests})`,
    };
  }
  const value = builtinValue(metric.name, input.canary);
  if (value === null) return { ...base, verdict: 'inconclusive', value, reason: 'no requests to measure' };
  const failure = absoluteFailure(metric, value);
  if (failure) return { ...base, verdict: 'fail', value, reason: failure };
  if (metric.maxRatioToStable === undefined) return { ...base, verdict: 'pass', value, reason: 'within limits' };

  const stable = input.stable;
  if (!stable || (floored && stable.requests < spec.minRequests)) {
    return {
      ...base,
      verdict: 'inconclusive',
      value,
      stable: stable ? builtinValue(metric.name, stable) : null,
      reason: `only ${stable?.requests ?? 0} requests to stable in the window (min_requests ${spec.minRequests})`,
    };
  }
  const stableValue = builtinValue(metric.name, stable);
  if (stableValue === null) {
    return { ...base, verdict: 'inconclusive', value, stable: stableValue, reason: 'no stable value to compare' };
  }
  const ratio = stableValue === 0 ? (value === 0 ? 1 : Infinity) : value / stableValue;
  const limit = metric.maxRatioToStable;
  if (ratio <= limit) {
    return {
      ...base,
      verdict: 'pass',
      value,
      stable: stableValue,
      reason: `ratio to stable ${round(ratio)} ≤ ${limit}`,
    };
  }
  const test =
    metric.name === 'error_rate'
      ? twoProportionTest(input.canary.errors, input.canary.requests, stable.errors, stable.requests)
      : metric.name === 'request_rate'
        ? undefined
        : mannWhitneyTest(input.canary.latenciesMs, stable.latenciesMs);
  if (test && !test.significant) {
    return {
      ...base,
      verdict: 'pass',
      value,
      stable: stableValue,
      pValue: round(test.pValue),
      reason: `ratio to stable ${round(ratio)} > ${limit} but not significant (p = ${round(test.pValue)} ≥ 0.05)`,
    };
  }
  return {
    ...base,
    verdict: 'fail',
    value,
    stable: stableValue,
    pValue: test ? round(test.pValue) : undefined,
    reason: `ratio to stable ${round(ratio)} > max_ratio_to_stable ${limit}${test ? ` (significant, p = ${round(test.pValue)})` : ''}`,
  };
}

function judgePrometheus(metric: MetricSpec, input: MeasurementInput): MetricResult {
  const condition = describeConditions(metric);
  const base = { name: metric.name, condition };
  const values = input.prometheus?.[metric.name];
  if (!values || values.error) {
    return { ...base, verdict: 'inconclusive', value: null, reason: values?.error ?? 'the query was not run' };
  }
  const value = values.canary ?? null;
  if (value === null || !Number.isFinite(value)) {
    return { ...base, verdict: 'inconclusive', value: null, reason: 'the query returned no value' };
  }
  const failure = absoluteFailure(metric, value);
  if (failure) return { ...base, verdict: 'fail', value, reason: failure };
  if (metric.maxRatioToStable === undefined) return { ...base, verdict: 'pass', value, reason: 'within limits' };
  const stable = values.stable ?? null;
  if (stable === null || !Number.isFinite(stable)) {
    return { ...base, verdict: 'inconclusive', value, stable, reason: 'the query returned no value for stable' };
  }
  const ratio = stable === 0 ? (value === 0 ? 1 : Infinity) : value / stable;
  // A query's samples are not available for a significance test: the ratio alone decides (docs/deployments.md).
  return ratio > metric.maxRatioToStable
    ? {
        ...base,
        verdict: 'fail',
        value,
        stable,
        reason: `ratio to stable ${round(ratio)} > ${metric.maxRatioToStable}`,
      }
    : {
        ...base,
        verdict: 'pass',
        value,
        stable,
        reason: `ratio to stable ${round(ratio)} ≤ ${metric.maxRatioToStable}`,
      };
}

/** Judges one measurement: fail when any metric fails, else inconclusive when any is, else pass. */
export function judgeMeasurement(spec: AnalysisSpec, input: MeasurementInput): MeasurementVerdict {
  const metrics = spec.metrics.map((metric) =>
    metric.prometheus || !isBuiltinMetric(metric.name)
      ? judgePrometheus(metric, input)
      : judgeBuiltin(metric, spec, input),
  );
  for (const metric of metrics) {
    if (metric.value !== null) metric.value = round(metric.value);
    if (typeof metric.stable === 'number') metric.stable = round(metric.stable);
  }
  const verdict: Verdict = metrics.some((metric) => metric.verdict === 'fail')
    ? 'fail'
    : metrics.some((metric) => metric.verdict === 'inconclusive')
      ? 'inconclusive'
      : 'pass';
  return { verdict, metrics };
}

/** Counts over one analysis run (a step's measurements, or the background analysis). */
export interface AnalysisTally {
  measurements: number;
  failures: number;
  inconclusives: number;
}

/** Where an analysis run stands after a measurement. */
export type AnalysisOutcome = 'continue' | 'passed' | 'failed' | 'inconclusive';

/**
 * Adds a verdict to a run's tally: the run fails once failures exceed `failure_limit`, is inconclusive (a human
 * decides) once inconclusive measurements exceed `inconclusive_limit`, and passes after `count` measurements
 * (a background analysis has no count and never passes).
 */
export function tallyMeasurement(
  spec: AnalysisSpec,
  tally: AnalysisTally,
  verdict: Verdict,
  count?: number,
): { tally: AnalysisTally; outcome: AnalysisOutcome } {
  const next = {
    measurements: tally.measurements + 1,
    failures: tally.failures + (verdict === 'fail' ? 1 : 0),
    inconclusives: tally.inconclusives + (verdict === 'inconclusive' ? 1 : 0),
  };
  if (next.failures > spec.failureLimit) return { tally: next, outcome: 'failed' };
  if (next.inconclusives > spec.inconclusiveLimit) return { tally: next, outcome: 'inconclusive' };
  if (count !== undefined && next.measurements >= count) return { tally: next, outcome: 'passed' };
  return { tally: next, outcome: 'continue' };
}

/** An empty tally. */
export const emptyTally: AnalysisTally = { measurements: 0, failures: 0, inconclusives: 0 };

/** One recorded measurement, as `deploy status` shows it. */
export interface Measurement {
  /** ISO time the measurement was judged. */
  at: string;
  /** `background` or `step N`. */
  source: string;
  window: { from: string; to: string; seconds: number };
  requests: { canary: number; stable: number };
  verdict: Verdict;
  metrics: MetricResult[];
}
