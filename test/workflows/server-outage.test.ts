/**
 * Chaos: the Temporal server goes away mid-step for longer than every timeout of the step's activity, then comes
 * back. The step's script finishes during the outage; the server times the activity out and retries it, and the
 * retry must return the recorded outcome rather than run the script again (docs/architecture.md, "Crash adoption").
 * The test starts its own Temporal dev server (on a free port, with its own database file) so it can stop it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createDockerResourceActivities } from '../../activities/docker-resources';
import { MockActivityEnvironment } from '@temporalio/testing';
import { job, pipeline, step } from '../helpers/models';
import { fastOptions, runResult, waitForRunningStep } from '../helpers/runs';
import { config, docker, leftoversOf, logs, uniqueTaskQueue } from '../helpers/temporal';
import { freePort } from '../helpers/ports';
import { OwnTemporal } from '../helpers/own-temporal';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

/** The step's activity timeouts in this test: heartbeat 3 s, start-to-close = step timeout + grace + 60 s. */
const heartbeatTimeoutSeconds = 3;
const stepTimeoutSeconds = 20;
const startToCloseSeconds = stepTimeoutSeconds + fastOptions.graceSeconds! + 60;

describe('a Temporal server outage mid-step (chaos)', () => {
  let folder: string;
  let temporal: OwnTemporal;
  let worker: WorkerProcess | undefined;
  const runIds: string[] = [];

  before(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'conveyor-outage-'));
    temporal = new OwnTemporal(await freePort(), path.join(folder, 'temporal.db'));
    await temporal.start();
  });
  after(async () => {
    await worker?.stop();
    await temporal.stop();
    const { cleanupRun } = createDockerResourceActivities({ docker });
    for (const runId of runIds) await new MockActivityEnvironment().run(cleanupRun, { runId });
    await rm(folder, { recursive: true, force: true });
    for (const runId of runIds) assert.deepEqual(await leftoversOf(runId), []);
  });

  it('never runs a finished step again when the server was down for longer than every activity timeout', async () => {
    const taskQueue = uniqueTaskQueue('outage');
    const runId = `run-test-${taskQueue}`;
    runIds.push(runId);
    const model = pipeline('outage', [
      job('once', [
        step(
          'token',
          [
            'token=$(od -An -N8 -tx1 /dev/urandom | tr -d " \\n")',
            'echo "token $token"',
            'echo "$token" >> /workspace/tokens',
            'sleep 6',
          ],
          { timeoutSeconds: stepTimeoutSeconds },
        ),
        step('count', ['cat /workspace/tokens']),
      ]),
    ]);
    worker = await startWorkerProcess(taskQueue, { TEMPORAL_ADDRESS: temporal.address });
    let connection = await Connection.connect({ address: temporal.address });
    const started = await new Client({ connection, namespace: config.temporal.namespace }).workflow.start(
      'pipelineRun',
      {
        taskQueue,
        workflowId: runId,
        args: [{ pipeline: model, vars: {}, trigger: 'test', options: { ...fastOptions, heartbeatTimeoutSeconds } }],
      },
    );
    const containerId = await waitForRunningStep(runId, 'token');
    await connection.close();

    // Down while the script sleeps; it finishes (and its worker tries to report it) while the server is away.
    await temporal.stop();
    const stoppedAt = Date.now();
    const exited = await docker.getContainer(containerId).wait();
    assert.equal((exited as { StatusCode: number }).StatusCode, 0);
    // Longer than the activity's heartbeat and start-to-close timeouts: the server must time the attempt out.
    await delay(Math.max(0, stoppedAt + (startToCloseSeconds + 5) * 1000 - Date.now()));
    await temporal.start();

    connection = await Connection.connect({ address: temporal.address });
    try {
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const status = await runResult(client.workflow.getHandle(started.workflowId));
      assert.equal(status.status, 'success');
      const history = await client.workflow.getHandle(started.workflowId).fetchHistory();
      const timedOut = (history.events ?? []).filter((event) => event.activityTaskTimedOutEventAttributes).length;
      const retried = (history.events ?? []).some(
        (event) => (event.activityTaskStartedEventAttributes?.attempt ?? 1) > 1,
      );
      // The outage did what it was meant to: the server timed the step's activity out or retried it.
      assert.ok(timedOut > 0 || retried, 'the outage did not make the server retry the step');
      const stored = (await logs.read(runId)).records;
      const tokens = stored.filter((record) => record.step === 'token').map((record) => record.line);
      assert.equal(tokens.length, 1, `the script ran once: ${tokens.join(', ')}`);
      const counted = stored.filter((record) => record.step === 'count').map((record) => record.line);
      assert.deepEqual(counted, [tokens[0]!.replace('token ', '')], 'one token in the workspace');
      assert.equal(status.jobs.once?.steps[0]?.attempts, 1);
    } finally {
      await connection.close();
    }
  });
});
