/** Judging measurements: the min_requests floor, absolute and relative conditions, significance, and limits. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyTally, judgeMeasurement, tallyMeasurement, type TrafficWindow } from '../../../deploy/analysis';
import type { AnalysisSpec } from '../../../deploy/spec';

function window(requests: number, errors: number, latency: (index: number) => number = () => 5): TrafficWindow {
  return { requests, errors, latenciesMs: Array.from({ length: requests }, (_, index) => latency(index)), seconds: 10 };
}

const spec = (metrics: AnalysisSpec['metrics'], minRequests = 20): AnalysisSpec => ({
  intervalSeconds: 10,
  minRequests,
  failureLimit: 0,
  inconclusiveLimit: 2,
  metrics,
});

describe('analysis', () => {
  it('calls a window with fewer than min_requests inconclusive, whatever the values', () => {
    const result = judgeMeasurement(spec([{ name: 'error_rate', max: 0.05 }]), { canary: window(10, 10) });
    assert.equal(result.verdict, 'inconclusive');
    assert.match(result.metrics[0]!.reason, /only 10 requests to the canary .*min_requests 20/);
  });

  it('fails an absolute threshold above the floor, naming the value and the threshold', () => {
    const result = judgeMeasurement(spec([{ name: 'error_rate', max: 0.05 }]), { canary: window(100, 30) });
    assert.equal(result.verdict, 'fail');
    assert.deepEqual(
      { value: result.metrics[0]!.value, condition: result.metrics[0]!.condition },
      { value: 0.3, condition: 'max 0.05' },
    );
    assert.match(result.metrics[0]!.reason, /error_rate 0.3 > max 0.05/);
  });

  it('fails a relative error rate only when the difference is significant', () => {
    const metric = { name: 'error_rate', maxRatioToStable: 1.5 };
    const significant = judgeMeasurement(spec([metric]), { canary: window(200, 30), stable: window(800, 40) });
    assert.equal(significant.verdict, 'fail');
    assert.ok(significant.metrics[0]!.pValue! < 0.05);
    const noise = judgeMeasurement(spec([metric]), { canary: window(25, 2), stable: window(100, 4) });
    assert.equal(noise.verdict, 'pass');
    assert.match(noise.metrics[0]!.reason, /not significant/);
  });

  it('does not fail a relative latency threshold whose difference is not significant', () => {
    const metric = { name: 'latency_p95', maxRatioToStable: 1.5 };
    const stable = window(100, 0, (index) => 5 + (index % 3));
    const canary = window(25, 0, (index) => (index >= 23 ? 80 : 5 + (index % 3)));
    const result = judgeMeasurement(spec([metric]), { canary, stable });
    assert.equal(result.metrics[0]!.value, 80);
    assert.equal(result.verdict, 'pass');
    const slow = judgeMeasurement(spec([metric]), { canary: window(50, 0, () => 40), stable });
    assert.equal(slow.verdict, 'fail');
  });

  it('is inconclusive about a relative condition when stable had too few requests', () => {
    const result = judgeMeasurement(spec([{ name: 'latency_p95', maxRatioToStable: 2 }]), {
      canary: window(50, 0),
      stable: window(5, 0),
    });
    assert.equal(result.verdict, 'inconclusive');
    assert.match(result.metrics[0]!.reason, /only 5 requests to stable/);
  });

  it('judges Prometheus values and reports a failed query as inconclusive', () => {
    const metrics = [{ name: 'queue_depth', prometheus: 'q', max: 10 }];
    assert.equal(
      judgeMeasurement(spec(metrics), { canary: window(0, 0), prometheus: { queue_depth: { canary: 12 } } }).verdict,
      'fail',
    );
    const failed = judgeMeasurement(spec(metrics), {
      canary: window(0, 0),
      prometheus: { queue_depth: { error: 'bad query' } },
    });
    assert.equal(failed.verdict, 'inconclusive');
    assert.equal(failed.metrics[0]!.reason, 'bad query');
  });

  it('fails the run once failures exceed failure_limit, and holds once inconclusive ones exceed theirs', () => {
    const limits = { ...spec([]), failureLimit: 1, inconclusiveLimit: 1 };
    let state = tallyMeasurement(limits, emptyTally, 'fail');
    assert.equal(state.outcome, 'continue');
    assert.equal(tallyMeasurement(limits, state.tally, 'fail').outcome, 'failed');
    state = tallyMeasurement(limits, emptyTally, 'inconclusive');
    assert.equal(tallyMeasurement(limits, state.tally, 'inconclusive').outcome, 'inconclusive');
    assert.equal(tallyMeasurement(limits, emptyTally, 'pass', 1).outcome, 'passed');
  });
});
