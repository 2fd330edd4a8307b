/** The statistics behind canary analysis: percentiles as DEP-093 defines them, and the two one-sided tests. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mannWhitneyTest, normalCdf, percentile, twoProportionTest } from '../../../deploy/statistics';

const close = (actual: number, expected: number, tolerance = 1e-3) =>
  assert.ok(Math.abs(actual - expected) < tolerance, `${actual} is not within ${tolerance} of ${expected}`);

describe('statistics', () => {
  it('takes percentiles as sorted[min(floor(n·p), n−1)]', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    assert.equal(percentile(values, 0.5), 51);
    assert.equal(percentile(values, 0.95), 96);
    assert.equal(percentile(values, 0.99), 100);
    assert.equal(percentile([7], 0.99), 7);
    assert.equal(percentile([], 0.5), undefined);
  });

  it('computes the normal distribution function', () => {
    close(normalCdf(0), 0.5, 1e-7);
    close(normalCdf(1.959964), 0.975, 1e-6);
    close(normalCdf(-1.644854), 0.05, 1e-6);
  });

  it('finds 30 % errors against 10 % significant over 100 requests each, and not over 10', () => {
    const big = twoProportionTest(30, 100, 10, 100);
    close(big.z, 3.5355);
    assert.ok(big.significant && big.pValue < 0.001);
    const small = twoProportionTest(3, 10, 1, 10);
    assert.equal(small.significant, false);
  });

  it('is never significant without variance or without requests', () => {
    assert.equal(twoProportionTest(0, 50, 0, 50).significant, false);
    assert.equal(twoProportionTest(5, 0, 0, 50).significant, false);
  });

  it('only tests one side: a canary with fewer errors than stable is never significantly worse', () => {
    assert.equal(twoProportionTest(1, 100, 30, 100).significant, false);
  });

  it('ranks latencies: a clearly slower canary is significant, a faster one is not', () => {
    const slow = mannWhitneyTest([4, 5, 6], [1, 2, 3]);
    close(slow.z, 1.7457);
    close(slow.pValue, 0.0404);
    assert.ok(mannWhitneyTest([40, 42, 45, 41, 44, 43, 47, 46], [10, 12, 11, 13, 9, 14, 12, 10]).significant);
    assert.equal(mannWhitneyTest([1, 2, 3], [4, 5, 6]).significant, false);
  });

  it('handles ties, including all-equal samples', () => {
    assert.equal(mannWhitneyTest([5, 5, 5], [5, 5, 5]).pValue, 1);
    const tied = mannWhitneyTest([2, 2, 3, 3], [1, 1, 2, 2]);
    assert.ok(tied.pValue > 0 && tied.pValue < 1);
  });

  it('does not let a few slow requests make a shift significant', () => {
    const stable = Array.from({ length: 25 }, (_, index) => 5 + (index % 3));
    const canary = [...Array.from({ length: 22 }, (_, index) => 5 + (index % 3)), 60, 70, 80];
    assert.equal(mannWhitneyTest(canary, stable).significant, false);
  });
});
