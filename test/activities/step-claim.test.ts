/**
 * The `runStep` activity's share of a job's engine claim and of the container made ahead (docs/operations.md, "A job
 * stays on its Docker engine"; docs/benchmarks.md, "Run overhead: the claim folded into the first step"), against the
 * real Docker engine: a job's first step names the engine queue it claimed the job for; its retry on another engine
 * refuses to run and names the claimed one; a cancelled first step removes its job's workspace; and a step whose
 * container was made ahead is started without another create.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type Docker from 'dockerode';
import { createDockerStepActivities, type RunStepInput, type RunStepResult } from '../../activities/docker-step';
import { createDockerResourceActivities } from '../../activities/docker-resources';
import { settleStepRemovals } from '../../activities/docker-step-cleanup';
import { stepInputFor } from '../helpers/step-input';
import { docker, leftoversOf, logs } from '../helpers/temporal';

const runId = `test-claim-${randomUUID().slice(0, 8)}`;
const { cleanupRun } = createDockerResourceActivities({ docker });

/** The Docker client with every `createContainer` call counted. */
function countingDocker(): { client: Docker; creates: string[] } {
  const creates: string[] = [];
  const client = Object.create(docker) as Docker;
  client.createContainer = (options: Docker.ContainerCreateOptions) => {
    creates.push(options.name ?? '');
    return docker.createContainer(options);
  };
  return { client, creates };
}

function run(
  activities: ReturnType<typeof createDockerStepActivities>,
  input: RunStepInput,
  info: ConstructorParameters<typeof MockActivityEnvironment>[0] = {},
): Promise<RunStepResult> {
  return new MockActivityEnvironment(info).run(activities.runStep, input) as Promise<RunStepResult>;
}

describe('runStep: the engine claim and the container made ahead', () => {
  after(async () => {
    await settleStepRemovals();
    await new MockActivityEnvironment().run(cleanupRun, { runId });
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it('starts the container the step before made ahead without creating it again', async () => {
    const { client, creates } = countingDocker();
    const activities = createDockerStepActivities({ docker: client, logs, heartbeatMs: 200 });
    const job = `job-${randomUUID().slice(0, 6)}`;
    const second = stepInputFor(runId, { job, prepareWorkspace: false, script: ['cat /workspace/mark'] });
    const first = stepInputFor(runId, { job, script: ['echo made > /workspace/mark'], next: second });
    assert.equal((await run(activities, first)).outcome, 'success');
    assert.equal(creates.length, 2, 'the first step created its own container and the second one');
    const result = await run(activities, second);
    assert.equal(result.outcome, 'success', result.logTail.join('\n'));
    assert.deepEqual(result.logTail, ['made']);
    assert.equal(creates.length, 2, `no further create: ${creates.join(', ')}`);
    // Without a container made ahead, the step creates its own.
    const alone = await run(activities, stepInputFor(runId, { job, prepareWorkspace: false, script: ['true'] }));
    assert.equal(alone.outcome, 'success');
    assert.equal(creates.length, 3);
  });

  it("names the engine queue a job's first step claimed, from the pool's queue or the engine's own", async () => {
    const activities = createDockerStepActivities({ docker, logs, heartbeatMs: 200, engineId: 'engine:a' });
    const fromPool = await run(activities, stepInputFor(runId, { claimHost: true }), { taskQueue: 'tq-docker' });
    assert.equal(fromPool.hostQueue, 'tq-docker@engine-a');
    assert.match(fromPool.worker ?? '', /\(tq-docker@engine-a\)$/);
    const fromEngine = await run(activities, stepInputFor(runId, { job: 'other', claimHost: true }), {
      taskQueue: 'tq-docker@engine-a',
    });
    assert.equal(fromEngine.hostQueue, 'tq-docker@engine-a');
    const notClaiming = await run(activities, stepInputFor(runId, { job: 'third' }), { taskQueue: 'tq-docker' });
    assert.equal(notClaiming.hostQueue, undefined);
  });

  it('refuses a retried first step that reached another engine than the one its earlier attempt claimed', async () => {
    const { client, creates } = countingDocker();
    const activities = createDockerStepActivities({ docker: client, logs, heartbeatMs: 200, engineId: 'west' });
    const input = stepInputFor(runId, { claimHost: true });
    const retry = { taskQueue: 'tq-docker', attempt: 2, heartbeatDetails: { hostQueue: 'tq-docker@east' } };
    await assert.rejects(run(activities, input, retry), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'StepOnOtherEngineError');
      assert.equal(error.nonRetryable, true);
      assert.deepEqual(error.details, [{ hostQueue: 'tq-docker@east' }]);
      return true;
    });
    assert.deepEqual(creates, [], 'nothing was created on this engine');
    // A retry on the engine it claimed runs there.
    const same = { ...retry, heartbeatDetails: { hostQueue: 'tq-docker@west' } };
    assert.equal((await run(activities, input, same)).outcome, 'success');
  });

  it("removes its job's workspace and the container made ahead when a job's first step is cancelled", async () => {
    const activities = createDockerStepActivities({ docker, logs, heartbeatMs: 200, engineId: 'engine' });
    const job = `job-${randomUUID().slice(0, 6)}`;
    const next = stepInputFor(runId, { job, prepareWorkspace: false });
    const input = stepInputFor(runId, { job, claimHost: true, script: ['sleep 600'], next });
    const env = new MockActivityEnvironment({ taskQueue: 'tq-docker' });
    const running = env.run(activities.runStep, input);
    const jobFilter = { label: [`conveyor.run=${runId}`, `conveyor.job=${job}`] };
    const madeAhead = { label: [`conveyor.run=${runId}`, `conveyor.step=${next.step}`] };
    for (let waited = 0; ; waited += 100) {
      const ready =
        (await docker.listContainers({ filters: { ...jobFilter, status: ['running'] } })).length > 0 &&
        (await docker.listContainers({ all: true, filters: madeAhead })).length > 0;
      if (ready) break;
      assert.ok(waited < 120_000, 'the step started and the next one was made ahead');
      await delay(100);
    }
    env.cancel();
    await assert.rejects(running);
    assert.deepEqual(await docker.listContainers({ all: true, filters: jobFilter }), []);
    assert.deepEqual((await docker.listVolumes({ filters: jobFilter })).Volumes ?? [], []);
  });
});
