/**
 * Artifacts across worker processes (docs/artifacts.md): two workers with separate data directories that share
 * only Temporal and MinIO hand an artifact from one to the other, and logs are readable from a third directory;
 * a worker killed with SIGKILL in the middle of an upload leaves nothing behind and publishes nothing wrong.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { defaultPayloadConverter } from '@temporalio/common';
import { scrubStore } from '../../activities/artifacts/scrub';
import { createFsStore } from '../../activities/store/fs';
import { listIncompleteUploads } from '../../activities/store/s3';
import { workspaceVolumeName } from '../../activities/names';
import { activityRuns } from '../helpers/activity-history';
import { finalStatus, pipelineFrom, runInput } from '../helpers/artifact-runs';
import { conveyorBin, runCommand } from '../helpers/cli';
import { createTestStore, type TestStore } from '../helpers/stores';
import { closeTestEnvironment, docker, testEnvironment, uniqueTaskQueue } from '../helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';
import { statusQuery } from '../../workflows/pipeline-run-messages';

let scratch = '';
before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'conveyor-hosts-'));
});
after(async () => {
  await closeTestEnvironment();
  await rm(scratch, { recursive: true, force: true });
});

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

const identity = (worker: WorkerProcess) => `${worker.child.pid}@${hostname()}`;

describe('two worker hosts sharing only Temporal and MinIO', () => {
  let subject: TestStore;
  const workers: WorkerProcess[] = [];
  before(async () => {
    subject = await createTestStore('s3');
  });
  after(async () => {
    for (const worker of workers) await worker.crash().catch(() => undefined);
    await subject.dispose();
  });

  it('hands the producer’s artifact from the first host to the consumer on the second, and shows both logs from a third', async () => {
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('hosts');
    const runId = `run-hosts-${taskQueue}`;
    // Each "host" has its own data directory (no shared disk); both use the test bucket on the stack's MinIO.
    const hostEnv = (name: string) => ({
      CONVEYOR_DATA_DIR: path.join(scratch, name),
      CONVEYOR_S3_BUCKET: subject.s3!.bucket,
    });
    const first = await startWorkerProcess(taskQueue, hostEnv('host-a'));
    workers.push(first);
    // The gate keeps the consumer waiting until the first host is gone: it finishes when the test says so.
    const pipeline = pipelineFrom(`
name: two-hosts
jobs:
  build:
    steps:
      - name: produce
        script: ["mkdir -p out", "echo made on the first host > out/note", "head -c 3000000 /dev/urandom > out/blob", "sha256sum out/blob > sum", "echo build done"]
    artifacts:
      out: [out, sum]
  gate:
    steps:
      - name: wait
        script: ["while [ ! -f /workspace/go ]; do sleep 0.2; done"]
  test:
    needs: [build, gate]
    artifacts_from: [build]
    steps:
      - name: consume
        script: ["sha256sum -c sum", "cat out/note"]
`);
    const handle = await env.client.workflow.start('pipelineRun', {
      taskQueue,
      workflowId: runId,
      args: [{ ...runInput(pipeline), options: { ...runInput(pipeline).options, heartbeatTimeoutSeconds: 5 } }],
    });
    await waitUntil('build to succeed on the first host', async () => {
      const status = await handle.query(statusQuery);
      return status.jobs.build?.status === 'success';
    });
    await first.crash();
    const second = await startWorkerProcess(taskQueue, hostEnv('host-b'));
    workers.push(second);
    // Open the gate: write /workspace/go into its workspace volume, as anything outside the run could.
    const opener = await docker.createContainer({
      Image: 'conveyor/busybox:latest',
      Cmd: ['touch', '/workspace/go'],
      User: '1000:1000',
      Labels: { 'conveyor.run': runId },
      HostConfig: { Mounts: [{ Type: 'volume', Source: workspaceVolumeName(runId, 'gate'), Target: '/workspace' }] },
    });
    await opener.start();
    await opener.wait();
    await opener.remove();

    const status = await finalStatus(handle);
    assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));
    const runs = (await activityRuns(env.client, runId)).filter((run) => run.outcome === 'completed');
    const by = (type: string, job: string) => runs.find((run) => run.type === type && run.job === job)?.identity;
    assert.equal(by('runStep', 'build'), identity(first));
    assert.equal(by('uploadArtifacts', 'build'), identity(first));
    assert.equal(by('downloadArtifacts', 'test'), identity(second));
    assert.equal(by('runStep', 'test'), identity(second));

    // A third machine: its own data directory and working directory, the same Temporal and bucket.
    const third = path.join(scratch, 'laptop');
    await mkdir(third, { recursive: true });
    const logs = await runCommand(conveyorBin, ['logs', runId], { env: hostEnv('laptop'), cwd: third });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /\[build\/produce\] build done/);
    assert.match(logs.stdout, /\[test\/consume\] out\/blob: OK/);
    assert.match(logs.stdout, /\[test\/consume\] made on the first host/);
  });
});

for (const kind of ['s3', 'fs'] as const) {
  describe(`a worker killed with SIGKILL in the middle of an upload (${kind})`, () => {
    let subject: TestStore | undefined;
    const workers: WorkerProcess[] = [];
    let storeDir = '';
    before(async () => {
      if (kind === 's3') subject = await createTestStore('s3', { partSize: 5 * 1024 * 1024 });
      storeDir = path.join(scratch, `store-${kind}`);
    });
    after(async () => {
      for (const worker of workers) await worker.crash().catch(() => undefined);
      await subject?.dispose();
    });

    it('publishes nothing under a wrong digest and leaves no temporary key or file once another worker finished', async () => {
      const env = await testEnvironment();
      const taskQueue = uniqueTaskQueue(`kill-${kind}`);
      const runId = `run-kill-${taskQueue}`;
      const dataDir = path.join(scratch, `kill-${kind}`);
      const workerEnv =
        kind === 's3'
          ? { CONVEYOR_DATA_DIR: dataDir, CONVEYOR_S3_BUCKET: subject!.s3!.bucket }
          : { CONVEYOR_DATA_DIR: dataDir, CONVEYOR_STORE: 'fs', CONVEYOR_STORE_DIR: storeDir };
      const first = await startWorkerProcess(taskQueue, workerEnv);
      workers.push(first);
      // Large enough that the upload is still under way when the test sees it (a local directory store is fast).
      const blobBytes = kind === 'fs' ? 1_200_000_000 : 400_000_000;
      const pipeline = pipelineFrom(`
name: killed-upload
jobs:
  build:
    steps:
      - name: produce
        script: ["mkdir -p big", "head -c ${blobBytes} /dev/urandom > big/blob", "sha256sum big/blob > big.sha256"]
    artifacts:
      big: [big, big.sha256]
  check:
    needs: [build]
    steps:
      - name: verify
        script: ["sha256sum -c big.sha256"]
`);
      const handle = await env.client.workflow.start('pipelineRun', {
        taskQueue,
        workflowId: runId,
        args: [{ ...runInput(pipeline), options: { ...runInput(pipeline).options, heartbeatTimeoutSeconds: 5 } }],
      });
      // Mid-upload: a temporary exists and the activity has told Temporal about it.
      await waitUntil('the upload to be under way', async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const upload = pending.find((activity) => activity.activityType?.name === 'uploadArtifacts');
        const payload = upload?.heartbeatDetails?.payloads?.[0];
        if (!payload) return false;
        const details = defaultPayloadConverter.fromPayload<{ temporaries: { kind: string }[] }>(payload);
        const wanted = kind === 's3' ? 'multipart' : 'file';
        return details.temporaries.some((temporary) => temporary.kind === wanted);
      });
      await first.crash();
      const second = await startWorkerProcess(taskQueue, workerEnv);
      workers.push(second);
      const status = await finalStatus(handle);
      assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));
      // The killed attempt timed out on its heartbeat; its retry ran on the second worker.
      const uploads = (await activityRuns(env.client, runId)).filter((run) => run.type === 'uploadArtifacts');
      assert.deepEqual(
        uploads.map((run) => [run.outcome, run.identity, run.attempt >= 2]),
        [['completed', identity(second), true]],
      );
      const store = kind === 's3' ? subject!.store : createFsStore(storeDir);
      const scrub = await scrubStore(store);
      assert.deepEqual(scrub.findings, [], 'every object hashes to its digest and is recorded');
      assert.equal(scrub.objects, 1);
      if (kind === 's3') assert.deepEqual(await listIncompleteUploads(subject!.s3!.client, subject!.s3!.bucket), []);
      const leftovers = [
        ...(await readdir(path.join(dataDir, 'tmp')).catch(() => [] as string[])),
        ...(await readdir(path.join(storeDir, 'tmp')).catch(() => [] as string[])),
      ];
      assert.deepEqual(leftovers, []);
    });
  });
}
