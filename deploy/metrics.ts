/**
 * The metrics a traffic router measures per version and window (docs/deployments.md#analysis): request rate,
 * error rate (the share of 5xx answers) and latency percentiles in milliseconds.
 */

/** Built-in metric names an analysis may use without a `prometheus:` query. */
export const builtinMetricNames = ['request_rate', 'error_rate', 'latency_p50', 'latency_p95', 'latency_p99'] as const;

/** A built-in metric name. */
export type BuiltinMetricName = (typeof builtinMetricNames)[number];

/** True when `name` is one of the router's built-in metrics. */
export function isBuiltinMetric(name: string): name is BuiltinMetricName {
  return (builtinMetricNames as readonly string[]).includes(name);
}

/** The quantile a latency metric reads (`latency_p95` → 0.95), or undefined for other metrics. */
export function latencyQuantile(name: string): number | undefined {
  const match = /^latency_p(\d\d)$/.exec(name);
  return match ? Number(match[1]) / 100 : undefined;
}
