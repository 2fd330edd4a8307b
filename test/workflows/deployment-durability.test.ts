/**
 * Durability of a deployment (docs/deployments.md#durability), with workers in their own processes: `kill -9` of the
 * worker during a 20 s canary pause — the next worker resumes and the pause still ends 20 s after it began; traffic
 * keeps flowing at the canary weight with no failed request while no worker runs; an approval signalled while no
 * worker runs is applied when one starts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { deploymentWorkflowId } from '../../deploy/names';
import { approveSignal } from '../../workflows/deployment-messages';
import {
  countVersions,
  deploymentLeftovers,
  destroyDeployment,
  ensureServiceImage,
  freePort,
  instancesByVersion,
  rollout,
  steadyTraffic,
  testSpec,
  uniqueService,
  waitForStatus,
} from '../helpers/deployments';
import { closeTestEnvironment, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

describe('deployment durability', () => {
  before(async () => {
    await Promise.all(['v1', 'v2'].map(ensureServiceImage));
  });
  after(closeTestEnvironment);

  it('survives kill -9 of the worker in a pause and a gate: the timer keeps its time, traffic flows, approvals wait', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('deploy-durable');
    const service = uniqueService('durable');
    const routerPort = await freePort();
    const spec = (version: string) =>
      testSpec({
        service,
        version,
        routerPort,
        replicas: 2,
        strategy: 'canary',
        canary: {
          steps: [{ set_weight: 25 }, { pause: 20 }, { approval: { name: 'prod', approvers: ['alice'] } }],
        },
      });
    let worker: WorkerProcess | undefined;
    try {
      worker = await startWorkerProcess(taskQueue);
      await rollout(client, taskQueue, spec('v1'));
      await waitForStatus(client, service, 'test', (s) => s.state === 'complete', 'v1 live');
      await rollout(client, taskQueue, spec('v2'));
      const paused = await waitForStatus(client, service, 'test', (s) => s.step?.kind === 'pause', 'the pause');
      const until = Date.parse(paused.step!.until!);

      // No worker: the router keeps serving the last weights; no request fails.
      await worker.crash();
      worker = undefined;
      const traffic = steadyTraffic(routerPort, 10);
      await delay(3000);
      const whileDown = await countVersions(routerPort, 200);
      assert.equal((whileDown.v1 ?? 0) + (whileDown.v2 ?? 0), 200, JSON.stringify(whileDown));
      assert.ok((whileDown.v2 ?? 0) > 0 && (whileDown.v1 ?? 0) > (whileDown.v2 ?? 0), JSON.stringify(whileDown));

      worker = await startWorkerProcess(taskQueue);
      const gated = await waitForStatus(client, service, 'test', (s) => s.state === 'awaiting_approval', 'the gate');
      assert.ok(Date.now() >= until, 'the pause did not end before its time');
      assert.equal(Date.parse(gated.rollout!.startedAt) < until, true);

      // An approval signalled while no worker runs is applied when one starts.
      await worker.crash();
      worker = undefined;
      await client.workflow
        .getHandle(deploymentWorkflowId(service, 'test'))
        .signal(approveSignal, { user: 'alice', comment: 'while the worker was down' });
      await delay(1000);
      worker = await startWorkerProcess(taskQueue);
      const done = await waitForStatus(
        client,
        service,
        'test',
        (s) => s.state === 'complete' && s.stable?.version === 'v2',
        'v2 live',
      );
      const answers = await traffic.stop();
      assert.deepEqual(
        answers.filter((a) => a.error || a.status !== 200),
        [],
        'no request failed while the worker was down or during the weight changes',
      );
      assert.deepEqual(
        done.approvals.map((d) => [d.user, d.decision, d.comment]),
        [['alice', 'approved', 'while the worker was down']],
      );
      assert.deepEqual(await countVersions(routerPort, 20), { v2: 20 });
      assert.deepEqual(Object.keys(await instancesByVersion(service)), ['v2']);
    } finally {
      await worker?.stop();
      // destroyDeployment needs a worker: a fresh in-process one on the same queue.
      await withWorkers(taskQueue, () => destroyDeployment(client, service));
    }
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
