/**
 * The sweeper a worker runs at start: it removes the containers, volumes and networks of closed or unknown runs
 * and keeps those of runs that are still open.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { sweepClosedRuns } from '../../workers/sweeper';
import { closeTestEnvironment, docker, leftoversOf, testCluster, testEnvironment } from '../helpers/temporal';
import { job, pipeline, step } from '../helpers/models';

/** Leaves a stopped container, a volume and a network labelled with `runId`, as a crashed worker would. */
async function leaveBehind(runId: string, cluster: string): Promise<void> {
  const labels = { 'conveyor.run': runId, 'conveyor.cluster': cluster };
  const name = `conveyor-${runId}`;
  await docker.createVolume({ Name: `${name}-ws`, Labels: labels });
  await docker.createNetwork({ Name: `${name}-net`, Internal: true, Labels: labels });
  await docker.createContainer({ name, Image: 'conveyor/busybox:latest', Cmd: ['true'], Labels: labels });
}

describe('sweeper', () => {
  after(closeTestEnvironment);

  it('removes what belongs to unknown or closed runs and keeps what belongs to open ones', async () => {
    const env = await testEnvironment();
    const cluster = await testCluster();
    const unknownRun = `run-sweep-unknown-${randomUUID().slice(0, 8)}`;
    const openRun = `run-sweep-open-${randomUUID().slice(0, 8)}`;
    const closedRun = `run-sweep-closed-${randomUUID().slice(0, 8)}`;
    // An open run: started on a task queue no worker polls, so it stays running.
    const open = await env.client.workflow.start('pipelineRun', {
      taskQueue: `sweep-${randomUUID().slice(0, 8)}`,
      workflowId: openRun,
      args: [{ pipeline: pipeline('sweep', [job('a', [step('s', ['true'])])]), vars: {}, trigger: 'test' }],
    });
    const closed = await env.client.workflow.start('pipelineRun', {
      taskQueue: `sweep-${randomUUID().slice(0, 8)}`,
      workflowId: closedRun,
      args: [{ pipeline: pipeline('sweep', [job('a', [step('s', ['true'])])]), vars: {}, trigger: 'test' }],
    });
    await closed.terminate('closed for the sweeper test');
    try {
      for (const runId of [unknownRun, openRun, closedRun]) await leaveBehind(runId, cluster);
      const swept = await sweepClosedRuns({ docker, client: env.client, cluster });
      assert.ok(swept.runs >= 2);
      assert.deepEqual(await leftoversOf(unknownRun), []);
      assert.deepEqual(await leftoversOf(closedRun), []);
      assert.equal((await leftoversOf(openRun)).length, 3, 'an open run keeps its container, volume and network');
    } finally {
      await open.terminate('end of the sweeper test');
      await sweepClosedRuns({ docker, client: env.client, cluster });
    }
    assert.deepEqual(await leftoversOf(openRun), []);
  });

  it("leaves another installation's resources alone, even when this server does not know their run", async () => {
    const env = await testEnvironment();
    const cluster = await testCluster();
    const foreignRun = `run-sweep-foreign-${randomUUID().slice(0, 8)}`;
    const foreignCluster = 'another-cluster-id/default';
    await leaveBehind(foreignRun, foreignCluster);
    try {
      await sweepClosedRuns({ docker, client: env.client, cluster });
      assert.equal((await leftoversOf(foreignRun)).length, 3, 'a foreign run keeps its container, volume and network');
    } finally {
      await sweepClosedRuns({ docker, client: env.client, cluster: foreignCluster });
    }
    assert.deepEqual(await leftoversOf(foreignRun), []);
  });
});
