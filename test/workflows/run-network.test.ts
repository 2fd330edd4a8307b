/**
 * Networks for steps (docs/runs.md "Steps and containers"): `network: egress` reaches a host outside this machine
 * (for `npm ci` or `pip install`), the default `isolated` network does not, and both are removed with the run.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { job, pipeline, step } from '../helpers/models';
import { startOutsideHost } from '../helpers/outside-host';
import { jobSummary, runPipeline } from '../helpers/runs';
import { closeTestEnvironment, leftoversOf, logs } from '../helpers/temporal';

after(closeTestEnvironment);

describe('step networks', () => {
  it('a network: egress job reaches a host outside the machine; an isolated one cannot; nothing is left', async () => {
    const outside = await startOutsideHost('hello from outside');
    try {
      const fetch = [`printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${outside.address} ${outside.port}`];
      const { runId, status } = await runPipeline(
        pipeline('egress', [
          job('online', [step('fetch', fetch)], { network: 'egress' }),
          job('offline', [step('fetch', fetch)], { network: 'isolated' }),
          job('none', [step('fetch', fetch)], { network: 'none' }),
        ]),
      );
      assert.deepEqual(jobSummary(status.jobs), {
        online: 'success',
        offline: 'failed:exit_code',
        none: 'failed:exit_code',
      });
      const { records } = await logs.read(runId);
      const lines = (job: string) => records.filter((record) => record.job === job).map((record) => record.line);
      assert.ok(lines('online').includes(outside.body), lines('online').join('\n'));
      assert.ok(!lines('offline').includes(outside.body), lines('offline').join('\n'));
      assert.deepEqual(await leftoversOf(runId), []);
    } finally {
      await outside.stop();
    }
  });
});
