/**
 * Runner pools (docs/operations.md, "Runner pools"): worker processes with separate data directories serve the
 * pools named in their `CONVEYOR_POOLS`; a job runs only on a worker of its `runs_on` pool (recorded per step and
 * in the history), and a job whose pool no worker serves is announced by `conveyor run` and then fails with
 * `no_runner` after its `queue_timeout`. A worker with `CONVEYOR_MAX_CONCURRENT_STEPS=1` runs one step at a time.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { RunStepResult } from '../../activities/docker-step-types';
import { activityRuns } from '../helpers/activity-history';
import { finalStatus, pipelineFrom, runInput } from '../helpers/artifact-runs';
import { succeededRun, workerHosts } from '../helpers/pool-runs';
import { conveyor } from '../helpers/cli';
import { eventually } from '../helpers/server';
import { statusQuery } from '../../workflows/pipeline-run-messages';
import { leftoversOf, testEnvironment, uniqueTaskQueue } from '../helpers/temporal';
import type { WorkerProcess } from '../helpers/worker-process';
import { removeRunResources } from '../helpers/workspaces';

const hosts = workerHosts('pools');
const { queues } = hosts;

/** A worker process on `taskQueue` serving `pools`, as its own "host" (own data directory and name). */
function poolWorker(taskQueue: string, name: string, env: Record<string, string>): Promise<WorkerProcess> {
  return hosts.start(taskQueue, name, env);
}

describe('two pools served by different worker processes', () => {
  const taskQueue = uniqueTaskQueue('pools');
  queues.push(taskQueue);
  let alpha: WorkerProcess;
  let beta: WorkerProcess;
  before(async () => {
    alpha = await poolWorker(taskQueue, 'host-alpha', { CONVEYOR_POOLS: 'default,alpha' });
    beta = await poolWorker(taskQueue, 'host-beta', { CONVEYOR_POOLS: 'beta' });
  });

  it('runs each job only on a worker of its runs_on pool, recorded per step', async () => {
    const env = await testEnvironment();
    const runId = `run-pools-${taskQueue}`;
    const pipeline = pipelineFrom(`
name: pools
runs_on: alpha
jobs:
  a1: {steps: [{name: s, script: ["echo a1"]}, {name: t, script: ["echo a1 again"]}]}
  a2: {steps: [{name: s, script: ["echo a2"]}]}
  b1: {runs_on: beta, steps: [{name: s, script: ["echo b1"]}, {name: t, script: ["echo b1 again"]}]}
  b2: {runs_on: beta, needs: a1, steps: [{name: s, script: ["echo b2"]}]}
  d: {runs_on: default, needs: b1, steps: [{name: s, script: ["echo d"]}]}
`);
    const status = await succeededRun(taskQueue, runId, pipeline);
    const workerOf = (job: string) => [...new Set(status.jobs[job]!.steps.map((step) => step.worker))];
    assert.deepEqual(workerOf('a1'), [`host-alpha (${taskQueue}-docker.alpha@host-alpha)`]);
    assert.deepEqual(workerOf('a2'), [`host-alpha (${taskQueue}-docker.alpha@host-alpha)`]);
    assert.deepEqual(workerOf('b1'), [`host-beta (${taskQueue}-docker.beta@host-beta)`]);
    assert.deepEqual(workerOf('b2'), [`host-beta (${taskQueue}-docker.beta@host-beta)`]);
    assert.deepEqual(workerOf('d'), [`host-alpha (${taskQueue}-docker@host-alpha)`]);
    // Temporal's own record agrees: every step activity was started by the pool's worker process.
    const identity = (worker: WorkerProcess) => `${worker.child.pid}@${hostname()}`;
    const steps = (await activityRuns(env.client, runId)).filter((run) => run.type === 'runStep');
    assert.equal(steps.length, 7);
    for (const run of steps) {
      assert.equal(run.identity, identity(run.job?.startsWith('b') ? beta : alpha), `${run.job}: ${run.identity}`);
    }
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it('announces a pool without workers, then fails its job with no_runner after queue_timeout', async () => {
    const file = hosts.scratch('nowhere.yml');
    await writeFile(
      file,
      [
        'name: nowhere',
        'jobs:',
        '  here: {steps: [{name: s, image: "conveyor/busybox:latest", script: ["echo here"]}]}',
        '  there:',
        '    runs_on: gpu',
        '    queue_timeout: 3s',
        '    steps: [{name: s, image: "conveyor/busybox:latest", script: ["echo never"]}]',
        '',
      ].join('\n'),
    );
    const result = await conveyor(['run', file], {
      env: { CONVEYOR_TASK_QUEUE: taskQueue, CONVEYOR_DATA_DIR: hosts.scratch('laptop') },
      timeoutMs: 300_000,
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`no worker serves runner pool 'gpu' \\(task queue '${taskQueue}-docker\\.gpu'\\).*CONVEYOR_POOLS=gpu`),
    );
    const runId = /run (\S+) started/.exec(result.stdout)?.[1];
    assert.ok(runId, result.stdout);
    const env = await testEnvironment();
    const status = await finalStatus(env.client.workflow.getHandle(runId));
    assert.equal(status.jobs.here?.status, 'success');
    assert.equal(status.jobs.there?.status, 'failed');
    assert.equal(status.jobs.there?.reason, 'no_runner');
    assert.match(
      status.jobs.there?.message ?? '',
      /no worker of pool 'gpu' took the job within its queue_timeout \(3 s/,
    );
    assert.match(result.stderr, /no_runner/);
    assert.deepEqual(await leftoversOf(runId), []);
  });
  it('conveyor status of a running run names the pool no worker serves and how to start one', async () => {
    const env = await testEnvironment();
    const runId = `run-test-${taskQueue}-status`;
    const handle = await env.client.workflow.start('pipelineRun', {
      taskQueue,
      workflowId: runId,
      args: [
        runInput(
          pipelineFrom(
            [
              'name: waiting',
              'jobs:',
              '  here: {runs_on: beta, steps: [{name: s, script: ["echo here"]}]}',
              '  there:',
              '    runs_on: gpu',
              '    queue_timeout: 1h',
              '    steps: [{name: s, script: ["echo never"]}]',
              '',
            ].join('\n'),
          ),
        ),
      ],
    });
    try {
      // Once the served job is done, only the unserved pool holds the run up.
      await eventually(
        'job here succeeded',
        async () => ((await handle.query(statusQuery)).jobs.here?.status === 'success' ? true : undefined),
        300_000,
      );
      const result = await conveyor(['status', runId], {
        env: { CONVEYOR_DATA_DIR: hosts.scratch('laptop') },
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /here success/);
      assert.match(
        result.stderr,
        new RegExp(
          `no worker serves runner pool 'gpu' \\(task queue '${taskQueue}-docker\\.gpu'\\).*CONVEYOR_POOLS=gpu`,
        ),
      );
      assert.doesNotMatch(result.stderr, /beta/, 'the served pool is not mentioned');
    } finally {
      await handle.terminate('the test is done');
      await removeRunResources(runId);
    }
  });
});

describe('per-worker capacity', () => {
  const taskQueue = uniqueTaskQueue('capacity');
  queues.push(taskQueue);
  before(async () => {
    await poolWorker(taskQueue, 'host-small', { CONVEYOR_MAX_CONCURRENT_STEPS: '1' });
  });

  it('a worker with one step slot runs three parallel jobs one after another', async () => {
    const env = await testEnvironment();
    const runId = `run-capacity-${taskQueue}`;
    const pipeline = pipelineFrom(`
name: capacity
jobs:
  x: {steps: [{name: s, script: ["sleep 1"]}]}
  y: {steps: [{name: s, script: ["sleep 1"]}]}
  z: {steps: [{name: s, script: ["sleep 1"]}]}
`);
    await succeededRun(taskQueue, runId, pipeline);
    // Each step container's start and end, as its activity returned them: with one slot, no two overlap.
    const history = await env.client.workflow.getHandle(runId).fetchHistory();
    const spans = stepSpans(history.events ?? []);
    assert.equal(spans.length, 3);
    spans.sort((a, b) => a.started.localeCompare(b.started));
    for (let index = 1; index < spans.length; index += 1) {
      assert.ok(spans[index]!.started >= spans[index - 1]!.ended, JSON.stringify(spans));
    }
    assert.deepEqual(await leftoversOf(runId), []);
  });
});

/** The container start and end of every completed runStep activity, from the results Temporal recorded. */
function stepSpans(events: temporal.api.history.v1.IHistoryEvent[]): Array<{ started: string; ended: string }> {
  const scheduled = new Set<string>();
  const spans: Array<{ started: string; ended: string }> = [];
  for (const event of events) {
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'runStep') {
      scheduled.add(String(event.eventId));
    }
    const completed = event.activityTaskCompletedEventAttributes;
    const payload = completed?.result?.payloads?.[0];
    if (completed && payload && scheduled.has(String(completed.scheduledEventId))) {
      const result = defaultPayloadConverter.fromPayload<RunStepResult>(payload);
      spans.push({ started: result.startedAt, ended: result.finishedAt });
    }
  }
  return spans;
}
