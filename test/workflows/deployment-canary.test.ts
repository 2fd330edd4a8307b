/**
 * Canary rollouts on the real dev server, Docker engine and routers: traffic split by weight, durable pauses,
 * approvals, promotion, and rollback on a failing analysis with its evidence.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { approveUpdate, promoteUpdate } from '../../workflows/deployment-messages';
import { deploymentWorkflowId } from '../../deploy/names';
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

describe('canary rollouts', () => {
  before(async () => {
    await Promise.all(['v1', 'v2', 'v3'].map(ensureServiceImage));
  });
  after(closeTestEnvironment);

  it('splits traffic by weight, pauses durably, waits for approval, and promotes the canary', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('canary');
    const service = uniqueService('canary');
    const routerPort = await freePort();
    await withWorkers(taskQueue, async () => {
      try {
        await rollout(
          client,
          taskQueue,
          testSpec({ service, version: 'v1', routerPort, replicas: 2, strategy: 'canary' }),
        );
        await waitForStatus(
          client,
          service,
          'test',
          (s) => s.state === 'complete' && s.stable?.version === 'v1',
          'v1 live',
        );
        assert.deepEqual(await countVersions(routerPort, 20), { v1: 20 });

        await rollout(
          client,
          taskQueue,
          testSpec({
            service,
            version: 'v2',
            routerPort,
            replicas: 2,
            strategy: 'canary',
            canary: {
              steps: [
                { set_weight: 20 },
                { pause: {} },
                { approval: { name: 'prod', approvers: ['alice'] } },
                { set_weight: 60 },
                { pause: 2 },
              ],
            },
          }),
        );
        await waitForStatus(
          client,
          service,
          'test',
          (s) => s.step?.kind === 'pause' && s.weights.canary === 20,
          'weight 20',
        );
        const counts = await countVersions(routerPort, 500);
        const share = ((counts.v2 ?? 0) / 500) * 100;
        assert.ok(share >= 15 && share <= 25, `canary share ${share} % (${JSON.stringify(counts)})`);
        const handle = client.workflow.getHandle(deploymentWorkflowId(service, 'test'));
        await handle.executeUpdate(promoteUpdate, { args: [{ user: 'bob', channel: 'cli' }] });
        await waitForStatus(client, service, 'test', (s) => s.state === 'awaiting_approval', 'the gate');
        await handle.executeUpdate(approveUpdate, { args: [{ user: 'alice', channel: 'cli' }] });
        const done = await waitForStatus(
          client,
          service,
          'test',
          (s) => s.state === 'complete' && s.stable?.version === 'v2',
          'v2 live',
        );
        assert.deepEqual(await countVersions(routerPort, 20), { v2: 20 });
        assert.deepEqual(Object.keys(await instancesByVersion(service)), ['v2']);
        assert.equal(done.history.length, 2);
      } finally {
        await destroyDeployment(client, service);
      }
    });
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
