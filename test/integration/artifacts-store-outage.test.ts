/**
 * The store going away in the middle of an upload (docs/artifacts.md): the activity fails as "store unavailable",
 * Temporal retries it with backoff, and once MinIO is back the run succeeds with the right bytes and nothing left
 * behind. This uses a MinIO of its own on a test port, so the stack's MinIO is never disturbed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { scrubStore } from '../../activities/artifacts/scrub';
import { createS3Client, ensureBucket } from '../../activities/s3';
import { createS3Store, listIncompleteUploads } from '../../activities/store/s3';
import { findTool, portAnswers } from '../../client/dev/processes';
import { statusQuery } from '../../workflows/pipeline-run-messages';
import { activityRuns } from '../helpers/activity-history';
import { finalStatus, pipelineFrom, runInput } from '../helpers/artifact-runs';
import { closeTestEnvironment, config, logs, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

/** A port for this test's MinIO from the engineer's test range (CONVEYOR_TEST_PORTS), else a fixed high one. */
function testPort(offset: number): number {
  const range = /^(\d+)-(\d+)$/.exec(process.env.CONVEYOR_TEST_PORTS ?? '');
  return (range ? Number(range[1]) : 39000) + offset;
}

const credentials = { MINIO_ROOT_USER: 'outage', MINIO_ROOT_PASSWORD: 'outage-secret' };

/** This test's MinIO server, which it stops and starts at will. */
class OwnMinio {
  private child: ChildProcess | undefined;
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    this.child = spawn(
      findTool('minio', config.cacheDir),
      [
        'server',
        this.dir,
        '--address',
        `127.0.0.1:${this.port}`,
        '--console-address',
        `127.0.0.1:${this.port + 1}`,
        '--quiet',
      ],
      { env: { ...process.env, ...credentials }, stdio: 'ignore' },
    );
    await waitUntil('MinIO to answer', async () => {
      const response = await fetch(`http://127.0.0.1:${this.port}/minio/health/live`).catch(() => undefined);
      return response?.ok === true;
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await waitUntil('the port to close', async () => !(await portAnswers('127.0.0.1', this.port)));
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

describe('MinIO stopped during an upload', () => {
  let dir = '';
  let minio: OwnMinio;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'conveyor-outage-'));
    minio = new OwnMinio(path.join(dir, 'minio'), testPort(11));
    await minio.start();
  });
  after(async () => {
    await minio.stop();
    await closeTestEnvironment();
    await rm(dir, { recursive: true, force: true });
  });

  it('is retried by Temporal and the run succeeds once MinIO is back', async () => {
    const client = createS3Client({
      endPoint: '127.0.0.1',
      port: minio.port,
      useSSL: false,
      accessKey: credentials.MINIO_ROOT_USER,
      secretKey: credentials.MINIO_ROOT_PASSWORD,
      bucket: 'outage',
    });
    await ensureBucket(client, 'outage');
    // Small parts, one at a time: the upload lasts long enough to be interrupted.
    const store = createS3Store({
      client,
      bucket: 'outage',
      spoolDir: path.join(dir, 'spool'),
      endpoint: `127.0.0.1:${minio.port}`,
      partSize: 5 * 1024 * 1024,
      concurrency: 1,
    });
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('outage');
    const runId = `run-outage-${taskQueue}`;
    const pipeline = pipelineFrom(`
name: store-outage
jobs:
  build:
    steps:
      - name: produce
        script: ["mkdir -p big", "head -c 300000000 /dev/urandom > big/blob", "sha256sum big/blob > big.sha256"]
    artifacts:
      big: [big, big.sha256]
  check:
    needs: [build]
    steps:
      - name: verify
        script: ["sha256sum -c big.sha256"]
`);
    const status = await withWorkers(
      taskQueue,
      async () => {
        const handle = await env.client.workflow.start('pipelineRun', {
          taskQueue,
          workflowId: runId,
          args: [runInput(pipeline)],
        });
        // In the middle of the upload: parts are going up.
        await waitUntil(
          'the multipart upload to start',
          async () => (await listIncompleteUploads(client, 'outage')).length > 0,
        );
        await minio.stop();
        // The attempt that lost its store fails, and Temporal schedules the next one.
        await waitUntil('the upload attempt to fail', async () => {
          const pending = (await handle.describe()).raw.pendingActivities ?? [];
          const upload = pending.find((activity) => activity.activityType?.name === 'uploadArtifacts');
          return (upload?.attempt ?? 0) >= 2 && Boolean(upload?.lastFailure);
        });
        const failure = (await handle.describe()).raw.pendingActivities?.find(
          (activity) => activity.activityType?.name === 'uploadArtifacts',
        )?.lastFailure;
        assert.match(failure?.message ?? '', /artifact store .* failed while|ECONNREFUSED|ECONNRESET/);
        await minio.start();
        const final = await finalStatus(handle);
        assert.equal((await handle.query(statusQuery)).status, final.status);
        return final;
      },
      { store, scratchDir: path.join(dir, 'spool') },
    );
    assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));
    const upload = (await activityRuns(env.client, runId)).find((run) => run.type === 'uploadArtifacts');
    assert.ok(upload && upload.attempt >= 2, 'the upload succeeded on a retry');
    const { records } = await logs.read(runId);
    assert.ok(records.some((record) => record.job === 'check' && /big\/blob: OK/.test(record.line)));
    assert.deepEqual(await listIncompleteUploads(client, 'outage'), [], 'the interrupted upload was aborted');
    const scrub = await scrubStore(store);
    assert.deepEqual(scrub.findings, []);
    assert.equal(scrub.objects, 1);
  });
});
