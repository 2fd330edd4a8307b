/**
 * A job stays on its Docker engine (docs/operations.md): its steps share a workspace volume, which lives on one
 * engine, so every container activity of a job goes to the worker(s) of the engine that took the job. Two worker
 * processes of one pool stand for two hosts with their own engines (`CONVEYOR_ENGINE_ID`, separate data
 * directories). Every step of a job runs on the same one of them (recorded per step and in Temporal's history); and
 * when that host's worker dies mid-job, the job fails `no_runner` naming the engine's queue, rather than going on in
 * an empty workspace elsewhere.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { activityRuns } from '../helpers/activity-history';
import { finalStatus, pipelineFrom, runInput } from '../helpers/artifact-runs';
import { workerHosts } from '../helpers/pool-runs';
import { waitForRunningStep } from '../helpers/runs';
import { leftoversOf, testEnvironment, uniqueTaskQueue } from '../helpers/temporal';
import type { WorkerProcess } from '../helpers/worker-process';

const hosts = workerHosts('engines');
const { queues, runs } = hosts;

/** A worker process on `taskQueue` standing for a host with its own Docker engine `name`. */
function hostWorker(taskQueue: string, name: string): Promise<WorkerProcess> {
  return hosts.start(taskQueue, name);
}

const identity = (worker: WorkerProcess) => `${worker.child.pid}@${hostname()}`;

describe('a job stays on its Docker engine', () => {
  it('runs every step of each job on the engine that took the job, with two engines in one pool', async () => {
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('engines');
    queues.push(taskQueue);
    const [east, west] = await Promise.all([hostWorker(taskQueue, 'host-east'), hostWorker(taskQueue, 'host-west')]);
    const names = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6'];
    // Each step checks that the workspace holds what the job's earlier steps wrote there.
    const jobs = names.map(
      (name) =>
        `  ${name}: {steps: [` +
        `{name: one, script: ["echo ${name} > /workspace/mark"]}, ` +
        `{name: two, script: ["grep -qx ${name} /workspace/mark", "echo two >> /workspace/mark"]}, ` +
        `{name: three, script: ["grep -qx two /workspace/mark"]}]}`,
    );
    const runId = `run-engines-${taskQueue}`;
    runs.push(runId);
    const handle = await env.client.workflow.start('pipelineRun', {
      taskQueue,
      workflowId: runId,
      args: [runInput(pipelineFrom(['name: engines', 'jobs:', ...jobs, ''].join('\n')))],
    });
    const status = await finalStatus(handle);
    assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));

    const activities = await activityRuns(env.client, runId);
    // Each job's first step claimed its engine: no separate claim activity (docs/operations.md).
    assert.deepEqual(
      activities.filter((run) => run.type === 'claimJobHost'),
      [],
    );
    const hosts = new Map([
      [identity(east), 'host-east'],
      [identity(west), 'host-west'],
    ]);
    for (const name of names) {
      // The status records the worker and queue of each step; Temporal's history records who ran each activity.
      const recorded = new Set(status.jobs[name]!.steps.map((step) => step.worker));
      assert.equal(recorded.size, 1, `${name}: ${[...recorded].join(', ')}`);
      const [worker] = [...recorded] as string[];
      const host = /^(host-\w+) /.exec(worker!)?.[1];
      assert.equal(worker, `${host} (${taskQueue}-docker@${host})`);
      const ran = activities.filter((run) => run.job === name);
      assert.ok(ran.length >= 3, `${name}: ${ran.length} container activities`);
      assert.deepEqual([...new Set(ran.map((run) => hosts.get(run.identity)))], [host], `${name}'s activities`);
    }
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it("fails a job with no_runner, naming its engine's queue, when that engine's worker dies mid-job", async () => {
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('engine-gone');
    queues.push(taskQueue);
    const east = await hostWorker(taskQueue, 'host-east');
    const runId = `run-engine-gone-${taskQueue}`;
    runs.push(runId);
    const pipeline = pipelineFrom(
      [
        'name: engine-gone',
        'jobs:',
        '  held:',
        '    queue_timeout: 5s',
        '    steps:',
        '      - {name: first, script: ["sleep 600"]}',
        '      - {name: second, script: ["true"]}',
        '',
      ].join('\n'),
    );
    const handle = await env.client.workflow.start('pipelineRun', {
      taskQueue,
      workflowId: runId,
      args: [{ ...runInput(pipeline), options: { ...runInput(pipeline).options, heartbeatTimeoutSeconds: 2 } }],
    });
    await waitForRunningStep(runId, 'first', 300_000);
    // Another host of the pool is up, with its own engine; then the job's host dies. The first step's retry reaches
    // the other host, which sends it back to the engine its first attempt claimed.
    await hostWorker(taskQueue, 'host-west');
    await east.crash();
    const status = await finalStatus(handle);
    const held = status.jobs.held!;
    assert.equal(held.status, 'failed', JSON.stringify(held, null, 1));
    assert.equal(held.reason, 'no_runner');
    assert.match(
      held.message ?? '',
      new RegExp(
        `no worker on the Docker engine that holds the job's workspace \\(task queue '${taskQueue}-docker@host-east'\\)`,
      ),
    );
    assert.deepEqual(
      held.steps.map((step) => step.status),
      ['failed', 'skipped'],
    );
    // The second step never ran anywhere.
    const ran = (await activityRuns(env.client, runId)).filter((run) => run.type === 'runStep');
    assert.deepEqual(
      ran.filter((run) => run.outcome === 'completed'),
      [],
    );
  });
});
