/**
 * Rolling updates and blue-green switches on the real dev server, Docker engine and router: a failing health check
 * in a later batch puts every updated instance back on the old version; a blue-green switch serves one colour or the
 * other, never a mix, and a failure while monitoring switches back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  countVersions,
  deploymentLeftovers,
  destroyDeployment,
  ensureServiceImage,
  freePort,
  get,
  instancesByVersion,
  rollout,
  steadyTraffic,
  testSpec,
  uniqueService,
  waitForStatus,
} from '../helpers/deployments';
import { approveUpdate } from '../../workflows/deployment-messages';
import { closeTestEnvironment, docker, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

describe('rolling and blue-green rollouts', () => {
  before(async () => {
    await Promise.all(['v1', 'v2'].map(ensureServiceImage));
  });
  after(closeTestEnvironment);

  it('rolls every updated instance back to v1 when an instance of batch 2 fails its health check', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('rolling');
    const service = uniqueService('rolling');
    const routerPort = await freePort();
    await withWorkers(taskQueue, async () => {
      try {
        await rollout(client, taskQueue, testSpec({ service, version: 'v1', routerPort, replicas: 3 }));
        await waitForStatus(client, service, 'test', (s) => s.state === 'complete', 'v1 live');
        const v1 = (await instancesByVersion(service)).v1!.sort();
        const traffic = steadyTraffic(routerPort, 10);
        await rollout(
          client,
          taskQueue,
          testSpec({
            service,
            version: 'v2',
            routerPort,
            replicas: 3,
            env: { FAIL_HEALTH_ON: 2 },
            rolling: { batch_size: 1, max_surge: 1, max_unavailable: 0, drain_timeout: 5 },
          }),
        );
        const done = await waitForStatus(client, service, 'test', (s) => s.state === 'rolled_back', 'the rollback');
        const answers = await traffic.stop();
        assert.equal(done.lastRollback?.evidence?.source, 'health check');
        assert.match(done.lastRollback!.reason, /-r2-2 is not healthy: Expected status 200, got 500/);
        // Instance 1 had been replaced by v2 and is back on v1 (a new container of the v1 release); nothing of v2 is left.
        const after = await instancesByVersion(service);
        assert.deepEqual(Object.keys(after), ['v1']);
        assert.deepEqual(after.v1!.sort(), v1);
        assert.ok(
          answers.some((a) => a.version === 'v2'),
          'batch 1 served v2 before the failure',
        );
        assert.deepEqual(
          answers.filter((a) => a.error || a.status !== 200),
          [],
        );
        assert.deepEqual(await countVersions(routerPort, 30), { v1: 30 });
      } finally {
        await destroyDeployment(client, service);
      }
    });
    assert.deepEqual(await deploymentLeftovers(service), []);
  });

  it('switches blue-green at once with no mixed answers, and switches back when monitoring fails', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('blue-green');
    const service = uniqueService('bluegreen');
    const routerPort = await freePort();
    const previewPort = await freePort();
    const spec = (version: string, blueGreen: Record<string, unknown>) =>
      testSpec({
        service,
        version,
        routerPort,
        replicas: 2,
        strategy: 'blue_green',
        blue_green: { preview_port: previewPort, scale_down_delay: 30, drain_timeout: 5, ...blueGreen },
      });
    await withWorkers(taskQueue, async () => {
      try {
        await rollout(client, taskQueue, spec('v1', {}));
        await waitForStatus(client, service, 'test', (s) => s.state === 'complete', 'v1 live');

        // v2: smoke-tested through the preview port, switched, monitored, kept v1 up for an instant rollback.
        const traffic = steadyTraffic(routerPort, 5);
        await rollout(
          client,
          taskQueue,
          spec('v2', {
            smoke: { image: 'conveyor/busybox:latest', script: ['wget -qO- "$PREVIEW_URL" | grep -q version=v2'] },
            approval: { name: 'switch', approvers: ['alice'] },
            monitor: 3,
          }),
        );
        await waitForStatus(client, service, 'test', (s) => s.state === 'awaiting_approval', 'the switch gate');
        assert.equal((await get(previewPort)).version, 'v2', 'the preview port serves the idle colour');
        assert.equal((await get(routerPort)).version, 'v1');
        const handle = client.workflow.getHandle(`deploy-${service}-test`);
        await handle.executeUpdate(approveUpdate, { args: [{ user: 'alice' }] });
        const complete = await waitForStatus(
          client,
          service,
          'test',
          (s) => s.state === 'complete' && s.stable?.version === 'v2',
          'v2 live',
        );
        const answers = (await traffic.stop()).filter((a) => !a.error);
        const firstV2 = answers.findIndex((a) => a.version === 'v2');
        assert.ok(firstV2 > 0, 'v1 answered before the switch and v2 after it');
        assert.deepEqual(
          answers.slice(firstV2).filter((a) => a.version !== 'v2'),
          [],
          'after the first v2 answer no request got v1',
        );
        assert.equal(answers.filter((a) => a.status !== 200).length, 0);
        assert.equal(complete.retiring?.version, 'v1', 'v1 stays up for the scale-down delay');

        // v3 (the v2 image again): healthy at first, then failing while monitored → back to v2 at once.
        await rollout(client, taskQueue, spec('v2', { monitor: 60 }));
        await waitForStatus(
          client,
          service,
          'test',
          (s) => s.step?.kind === 'pause' && s.weights.canary === 100,
          'monitoring',
        );
        assert.deepEqual(Object.keys(await instancesByVersion(service)).sort(), ['v2']);
        const monitored = (
          await docker.listContainers({
            filters: { label: [`conveyor.revision=3`, `conveyor.deployment=deploy-${service}-test`] },
          })
        )[0]!;
        await docker
          .getContainer(monitored.Id)
          .exec({ Cmd: ['touch', '/tmp/unhealthy'] })
          .then((exec) => exec.start({}));
        const failed = await waitForStatus(
          client,
          service,
          'test',
          (s) => s.state === 'rolled_back',
          'the switch back',
        );
        assert.equal(failed.lastRollback?.evidence?.source, 'health check');
        assert.equal(failed.stable?.revision, 2);
        const revisions = await docker.listContainers({
          filters: { label: [`conveyor.deployment=deploy-${service}-test`, 'conveyor.role=instance'] },
        });
        assert.deepEqual([...new Set(revisions.map((c) => c.Labels['conveyor.revision']))], ['2']);
      } finally {
        await destroyDeployment(client, service);
      }
    });
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
