/**
 * A deployment's history stays bounded however many rollouts it sees (docs/deployments.md#the-deployment-workflow):
 * 50 sequential rollouts, queued at once, run one after the other across continue-as-new; every run of the
 * workflow stays small, and `conveyor deploy history` lists all 50.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deploymentWorkflowId } from '../../deploy/names';
import { conveyor } from '../helpers/cli';
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

const rollouts = 50;

describe('deployment history', () => {
  before(async () => {
    await Promise.all(['v1', 'v2'].map(ensureServiceImage));
  });
  after(closeTestEnvironment);

  it('stays bounded over 50 sequential rollouts, and deploy history lists all 50', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('deploy-history');
    const service = uniqueService('history');
    const routerPort = await freePort();
    const versions = Array.from({ length: rollouts }, (_, index) => (index % 2 === 0 ? 'v1' : 'v2'));
    await withWorkers(taskQueue, async () => {
      try {
        for (const version of versions) {
          await rollout(
            client,
            taskQueue,
            testSpec({ service, version, routerPort, rolling: { drain_timeout: 0 }, replicas: 1 }),
          );
        }
        const done = await waitForStatus(
          client,
          service,
          'test',
          (s) => s.history.length === rollouts && !s.rollout,
          'the 50th rollout',
          900_000,
        );
        assert.deepEqual(
          done.history.map((entry) => [entry.version, entry.outcome]),
          versions.map((version) => [version, 'complete']),
        );
        const handle = client.workflow.getHandle(deploymentWorkflowId(service, 'test'));
        const description = await handle.describe();
        assert.ok(description.historyLength < 400, `the current run has ${description.historyLength} events`);
        const runs = [];
        for await (const run of client.workflow.list({
          query: `WorkflowId = '${deploymentWorkflowId(service, 'test')}'`,
        }))
          runs.push(run);
        assert.ok(runs.length >= rollouts, `continued as new after every rollout (${runs.length} runs)`);

        const cli = await conveyor(['deploy', 'history', service, '--env', 'test', '--json']);
        assert.equal(cli.code, 0, cli.stderr);
        const listed = JSON.parse(cli.stdout) as Array<{ version: string; outcome: string }>;
        assert.equal(listed.length, rollouts);
        assert.ok(listed.every((entry) => entry.outcome === 'complete'));
        assert.deepEqual(await countVersions(routerPort, 10), { v2: 10 });
        assert.deepEqual(Object.keys(await instancesByVersion(service)), ['v2']);
      } finally {
        await destroyDeployment(client, service);
      }
    });
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
