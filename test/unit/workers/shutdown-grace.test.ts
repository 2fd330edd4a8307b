/** The worker's shutdown grace (docs/runs.md, "Stopping a worker"): default, seconds or a duration, clear errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../workers/config';

const grace = (value?: string) =>
  loadConfig({ CONVEYOR_DATA_DIR: '/nonexistent', CONVEYOR_WORKER_SHUTDOWN_GRACE: value }).worker.shutdownGraceSeconds;

describe('worker shutdown grace', () => {
  it('is 30 s unless CONVEYOR_WORKER_SHUTDOWN_GRACE says otherwise', () => {
    assert.equal(grace(), 30);
  });

  it('accepts seconds or a duration', () => {
    assert.equal(grace('0'), 0);
    assert.equal(grace('45'), 45);
    assert.equal(grace('2m'), 120);
    assert.equal(grace('1h30m'), 5400);
  });

  it('refuses anything else with a message naming the variable and the expected form', () => {
    for (const bad of ['-5', '1.5', 'soon', '25h']) {
      assert.throws(
        () => grace(bad),
        (error: Error) =>
          error.message.includes('CONVEYOR_WORKER_SHUTDOWN_GRACE') && error.message.includes('such as 30s or 5m'),
        bad,
      );
    }
  });
});
