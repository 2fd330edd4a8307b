/**
 * Approval gates and abort on the real dev server, Docker engine and router: an unauthorised approver and a
 * repeated approver are refused with the reason and nothing changes; `abort` mid-canary restores stable; a gate
 * with `on_timeout: reject` rolls back when its timeout passes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deploymentWorkflowId } from '../../deploy/names';
import { abortUpdate, approveUpdate } from '../../workflows/deployment-messages';
import {
  countVersions,
  deploymentLeftovers,
  destroyDeployment,
  ensureServiceImage,
  freePort,
  instancesByVersion,
  rollout,
  testSpec,
  uniqueService,
  waitForStatus,
} from '../helpers/deployments';
import { closeTestEnvironment, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

describe('approval gates', () => {
  before(async () => {
    await Promise.all(['v1', 'v2'].map(ensureServiceImage));
  });
  after(closeTestEnvironment);

  it('refuses unauthorised and repeated approvers without a change, aborts to stable, and rejects on timeout', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('gates');
    const service = uniqueService('gates');
    const routerPort = await freePort();
    const groups = { release: ['carol'] };
    const spec = (version: string, approval: Record<string, unknown>) =>
      testSpec({
        service,
        version,
        routerPort,
        replicas: 1,
        strategy: 'canary',
        canary: { steps: [{ set_weight: 30 }, { approval: { name: 'prod', ...approval } }, { set_weight: 100 }] },
      });
    const handle = client.workflow.getHandle(deploymentWorkflowId(service, 'test'));
    await withWorkers(taskQueue, async () => {
      try {
        await rollout(client, taskQueue, spec('v1', { approvers: ['alice'] }), { groups });
        await waitForStatus(client, service, 'test', (s) => s.state === 'complete', 'v1 live');

        await rollout(client, taskQueue, spec('v2', { approvers: ['alice', 'group:release'], required: 2 }), {
          groups,
        });
        const gated = await waitForStatus(client, service, 'test', (s) => s.state === 'awaiting_approval', 'gate');
        await assert.rejects(handle.executeUpdate(approveUpdate, { args: [{ user: 'bob' }] }), (error: Error) => {
          assert.match(
            String((error as { cause?: Error }).cause?.message),
            /^bob may not approve gate 'prod': approvers are alice, group:release$/,
          );
          return true;
        });
        const accepted = await handle.executeUpdate(approveUpdate, { args: [{ user: 'carol', comment: 'ok' }] });
        assert.equal(accepted.message, "approved gate 'prod' (1 of 2)");
        await assert.rejects(handle.executeUpdate(approveUpdate, { args: [{ user: 'carol' }] }), (error: Error) => {
          assert.match(String((error as { cause?: Error }).cause?.message), /carol has already approved gate 'prod'/);
          return true;
        });
        const after = await waitForStatus(client, service, 'test', () => true, 'status');
        assert.equal(after.state, 'awaiting_approval');
        assert.deepEqual(
          after.approvals.map((d) => [d.user, d.decision]),
          [['carol', 'approved']],
          'the refused updates left no record and changed nothing',
        );
        assert.deepEqual(after.gate?.approvedBy, ['carol']);
        assert.deepEqual(after.weights, gated.weights);

        // abort mid-canary: everything back on v1.
        await handle.executeUpdate(abortUpdate, { args: [{ user: 'alice', comment: 'not today' }] });
        const aborted = await waitForStatus(client, service, 'test', (s) => s.state === 'rolled_back', 'abort');
        assert.equal(aborted.lastRollback?.evidence?.source, 'abort');
        assert.deepEqual(await countVersions(routerPort, 20), { v1: 20 });
        assert.deepEqual(Object.keys(await instancesByVersion(service)), ['v1']);

        // Nobody decides within 2 s and on_timeout is reject: the rollout rolls back.
        await rollout(client, taskQueue, spec('v2', { approvers: ['alice'], timeout: 2, on_timeout: 'reject' }), {
          groups,
        });
        const timedOut = await waitForStatus(
          client,
          service,
          'test',
          (s) => s.state === 'rolled_back' && s.history.length === 3,
          'the gate timeout',
        );
        assert.match(timedOut.lastRollback?.reason ?? '', /gate 'prod' timed out after 2s \(on_timeout: reject\)/);
        assert.deepEqual(await countVersions(routerPort, 20), { v1: 20 });
        assert.deepEqual(Object.keys(await instancesByVersion(service)), ['v1']);
      } finally {
        await destroyDeployment(client, service);
      }
    });
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
