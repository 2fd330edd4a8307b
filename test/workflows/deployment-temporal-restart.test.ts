/**
 * Durability of a deployment across a Temporal server restart (docs/deployments.md#durability): the dev server is
 * killed during a canary's 20 s pause and started again on the same database. The router keeps serving the canary
 * weight while the server is away, with no failed request; the pause keeps its end time (its durable timer is not
 * restarted); the rollout then finishes, v2 alone answers and v1's containers are gone. The test runs a dev server
 * of its own (test/helpers/own-temporal.ts) and a worker process connected to it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import {
  countVersions,
  deploymentLeftovers,
  destroyDeployment,
  ensureServiceImage,
  freePort,
  instancesByVersion,
  removeDeploymentResources,
  rollout,
  steadyTraffic,
  testSpec,
  uniqueService,
  waitForStatus,
} from '../helpers/deployments';
import { OwnTemporal } from '../helpers/own-temporal';
import { config, uniqueTaskQueue } from '../helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

describe('deployment across a Temporal server restart', () => {
  let folder: string;
  let temporal: OwnTemporal;

  before(async () => {
    await Promise.all(['v1', 'v2'].map(ensureServiceImage));
    folder = await mkdtemp(path.join(os.tmpdir(), 'conveyor-deploy-restart-'));
    temporal = new OwnTemporal(await freePort(), path.join(folder, 'temporal.db'));
    await temporal.start();
  });
  after(async () => {
    await temporal.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('loses nothing when the server restarts during a canary pause: the timer keeps its end, traffic flows', async () => {
    const taskQueue = uniqueTaskQueue('deploy-restart');
    const service = uniqueService('restart');
    const routerPort = await freePort();
    const spec = (version: string) =>
      testSpec({
        service,
        version,
        routerPort,
        replicas: 2,
        strategy: 'canary',
        canary: { steps: [{ set_weight: 25 }, { pause: 20 }] },
      });
    let worker: WorkerProcess | undefined;
    let connection = await Connection.connect({ address: temporal.address });
    let client = new Client({ connection, namespace: config.temporal.namespace });
    let traffic: ReturnType<typeof steadyTraffic> | undefined;
    try {
      worker = await startWorkerProcess(taskQueue, { TEMPORAL_ADDRESS: temporal.address });
      await rollout(client, taskQueue, spec('v1'));
      await waitForStatus(client, service, 'test', (s) => s.state === 'complete', 'v1 live');
      await rollout(client, taskQueue, spec('v2'));
      const paused = await waitForStatus(client, service, 'test', (s) => s.step?.kind === 'pause', 'the pause');
      const until = paused.step!.until!;

      // The server goes away mid-pause; the router keeps the canary weight on its own.
      traffic = steadyTraffic(routerPort, 10);
      await connection.close();
      await temporal.stop();
      const whileDown = await countVersions(routerPort, 200);
      assert.equal((whileDown.v1 ?? 0) + (whileDown.v2 ?? 0), 200, JSON.stringify(whileDown));
      assert.ok((whileDown.v2 ?? 0) > 0 && (whileDown.v1 ?? 0) > (whileDown.v2 ?? 0), JSON.stringify(whileDown));
      await delay(3000);
      await temporal.start();
      connection = await Connection.connect({ address: temporal.address });
      client = new Client({ connection, namespace: config.temporal.namespace });

      // The same pause, with the same end: the durable timer was not restarted.
      const resumed = await waitForStatus(client, service, 'test', () => true, 'the status after the restart');
      if (resumed.step?.kind === 'pause') assert.equal(resumed.step.until, until);
      const done = await waitForStatus(
        client,
        service,
        'test',
        (s) => s.state === 'complete' && s.stable?.version === 'v2',
        'v2 live',
      );
      assert.ok(Date.now() >= Date.parse(until), 'the pause ended at its time, not before');
      const answers = await traffic.stop();
      assert.deepEqual(
        answers.filter((a) => a.error || a.status !== 200),
        [],
        'no request failed while the server was down, or during the weight changes',
      );
      assert.deepEqual(
        done.history.map((entry) => [entry.version, entry.outcome]),
        [
          ['v1', 'complete'],
          ['v2', 'complete'],
        ],
      );
      assert.deepEqual(await countVersions(routerPort, 20), { v2: 20 });
      assert.deepEqual(Object.keys(await instancesByVersion(service)), ['v2']);
    } finally {
      await traffic?.stop();
      if (worker) await destroyDeployment(client, service).catch(() => removeDeploymentResources(service));
      else await removeDeploymentResources(service);
      await worker?.stop();
      await connection.close();
    }
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
