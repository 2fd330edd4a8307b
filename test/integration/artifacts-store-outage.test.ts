/**
 * The store going away in the middle of an upload (docs/artifacts.md): the activity fails as "store unavailable",
 * Temporal retries it with backoff, and once MinIO is back the run succeeds with the right bytes and nothing left
 * behind. This uses a MinIO of its own on a test port, so the stack's MinIO is never disturbed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scrubStore } from '../../activities/artifacts/scrub';
import { listIncompleteUploads } from '../../activities/store/s3';
import { statusQuery } from '../../workflows/pipeline-run-messages';
import { activityRuns } from '../helpers/activity-history';
import { finalStatus, pipelineFrom, runInput } from '../helpers/artifact-runs';
import { OwnMinio, waitUntil } from '../helpers/own-minio';
import { closeTestEnvironment, logs, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

describe('MinIO stopped during an upload', () => {
  let minio: OwnMinio;
  before(async () => {
    minio = await OwnMinio.started(11);
  });
  after(async () => {
    await minio?.dispose();
    await closeTestEnvironment();
  });

  it('is retried by Temporal and the run succeeds once MinIO is back', async () => {
    const client = minio.client('outage');
    // Small parts, one at a time: the upload lasts long enough to be interrupted.
    const store = await minio.store('outage', { partSize: 5 * 1024 * 1024, concurrency: 1 });
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
      { store, scratchDir: minio.spoolDir },
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
