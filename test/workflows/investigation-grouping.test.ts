/**
 * Grouping and memory (docs/investigations.md): the same failure twice is one incident while it is open; once a
 * human resolved it with the confirmed cause, the next one is a new incident that cites it and ranks that cause
 * first.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { resolveUpdate } from '../../workflows/investigation-messages';
import { withInvestigations } from '../helpers/incidents';
import { job, pipeline, step } from '../helpers/models';
import { closeTestEnvironment, testEnvironment } from '../helpers/temporal';

after(closeTestEnvironment);

describe('incident grouping and memory', () => {
  it('joins a repeat to the open incident, and after resolution opens a new one citing it with its cause first', async () => {
    const env = await testEnvironment();
    // The failure prints a different number each time: the fingerprint ignores it.
    const model = pipeline(`inv-group-${randomUUID().slice(0, 8)}`, [
      job('deploy', [step('push', ['echo "push to 10.0.0.$RANDOM:5000: connection refused" >&2', 'exit 1'])]),
    ]);
    await withInvestigations('inv-group', async (bench) => {
      const first = await bench.run(model);
      const second = await bench.run(model);
      assert.ok(first.status.incident);
      assert.equal(second.status.incident, first.status.incident, 'the repeat joins the open incident');
      const incident = await bench.investigated(first.status.incident);
      assert.equal(incident.count, 2);
      assert.ok(incident.timeline.some((entry) => entry.what.startsWith('occurred again:')));
      assert.equal(incident.rootCause?.cause, 'network_unreachable');

      // A human corrects the cause: it was the script (pushing to the wrong place), not the network.
      const handle = env.client.workflow.getHandle(first.status.incident);
      await assert.rejects(
        handle.executeUpdate(resolveUpdate, { args: [{ cause: 'gremlins', by: 'alice' }] }),
        (error: Error) => {
          assert.match(String((error.cause as Error | undefined)?.message), /unknown cause 'gremlins'/);
          return true;
        },
      );
      await handle.executeUpdate(resolveUpdate, { args: [{ cause: 'script_error', by: 'alice', note: 'wrong host' }] });
      const resolved = await bench.investigated(first.status.incident);
      assert.equal(resolved.status, 'resolved');
      await handle.result();

      const third = await bench.run(model);
      assert.ok(third.status.incident);
      assert.notEqual(third.status.incident, first.status.incident);
      assert.equal(third.status.incident, first.status.incident.replace(/-1$/, '-2'));
      const next = await bench.investigated(third.status.incident);
      assert.deepEqual(
        next.similar.map((similar) => [similar.id, similar.cause, similar.confirmed]),
        [[first.status.incident, 'script_error', true]],
      );
      assert.equal(next.hypotheses[0]?.cause, 'script_error', 'the confirmed cause is ranked first');
      assert.equal(next.rootCause?.cause, 'script_error');
      const plan = await bench.document(next.reports.plan);
      assert.match(plan, /### 1\. script_error/);
      assert.match(plan, new RegExp(`confirmed by a human in ${first.status.incident}`));
      assert.match(
        await bench.document(next.reports.rca),
        new RegExp(`${first.status.incident} .*script_error — confirmed`),
      );
    });
  });
});
