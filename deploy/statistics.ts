/**
 * The statistics behind canary analysis (DEP-061, docs/deployments.md#significance): percentiles, a one-sided
 * two-proportion z-test for rates and a one-sided Mann-Whitney U test for latencies, so that a relative threshold
 * only fails a canary whose difference from stable is significant.
 */

/** The significance level every test uses: 95 % confidence. */
export const significanceLevel = 0.05;

/**
 * The `p`-quantile of ascending `sorted` values as the design documents define it (DEP-093):
 * `sorted[min(floor(n·p), n−1)]`; undefined for no values.
 */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(Math.floor(sorted.length * p), sorted.length - 1)];
}

/** Standard normal cumulative distribution (Abramowitz–Stegun 7.1.26 through erf; absolute error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** The outcome of a one-sided test that the first sample is larger than the second. */
export interface TestResult {
  /** The test statistic (a z score). */
  z: number;
  /** One-sided p-value: the chance of a difference at least this large if there were none. */
  pValue: number;
  /** `pValue < significanceLevel`. */
  significant: boolean;
}

/**
 * One-sided two-proportion z-test with a pooled variance: is the rate `x1/n1` higher than `x2/n2`? With no
 * variance at all (both rates 0 or both 1) nothing is significant.
 */
export function twoProportionTest(x1: number, n1: number, x2: number, n2: number): TestResult {
  if (n1 === 0 || n2 === 0) return { z: 0, pValue: 1, significant: false };
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  if (variance === 0) return { z: 0, pValue: 1, significant: false };
  const z = (p1 - p2) / Math.sqrt(variance);
  const pValue = 1 - normalCdf(z);
  return { z, pValue, significant: pValue < significanceLevel };
}

/**
 * One-sided Mann-Whitney U test (normal approximation with tie correction and continuity correction): do values
 * of `a` tend to be larger than values of `b`? Makes no assumption about the distributions, so a few slow requests
 * do not decide it the way they move a p95.
 */
export function mannWhitneyTest(a: readonly number[], b: readonly number[]): TestResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { z: 0, pValue: 1, significant: false };
  const all = [...a.map((value) => ({ value, first: true })), ...b.map((value) => ({ value, first: false }))].sort(
    (x, y) => x.value - y.value,
  );
  const n = all.length;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && all[end + 1]!.value === all[start]!.value) end += 1;
    const rank = (start + end) / 2 + 1;
    const size = end - start + 1;
    tieTerm += size ** 3 - size;
    for (let i = start; i <= end; i += 1) if (all[i]!.first) rankSumA += rank;
    start = end + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { z: 0, pValue: 1, significant: false };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  const pValue = 1 - normalCdf(z);
  return { z, pValue, significant: pValue < significanceLevel };
}
