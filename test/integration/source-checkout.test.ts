/**
 * The run's source in its jobs (docs/triggers.md), with real git, Temporal, Docker and MinIO: the worker archives
 * the run's commit once into the artifact store, every checking-out job extracts that same archive into
 * /workspace (or `checkout.path`) — so a commit that lands mid-run changes nothing — `checkout: false` gets no
 * files, and an archive whose bytes no longer match its digest stops the job before its first step.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readdir, readFile } from 'node:fs/promises';
import Docker from 'dockerode';
import { ArtifactCatalog } from '../../activities/artifacts/catalog';
import { SourceTrees } from '../../activities/source/source-trees';
import { contentKey } from '../../activities/store/store';
import type { RunSource } from '../../pipeline/source';
import { statusQuery, type PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { finalStatus, pipelineFrom, runInput } from '../helpers/artifact-runs';
import { commitFiles, createWorkTree, git, scratchDir } from '../helpers/git';
import { eventually } from '../helpers/server';
import { createTestStore, type TestStore } from '../helpers/stores';
import { leftoversOf, logs, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

const pipeline = (name: string) =>
  pipelineFrom(`
name: ${name}
jobs:
  first:
    steps:
      - name: show
        script: ["echo first=$(cat VERSION)", "sleep 3"]
  second:
    needs: [first]
    steps:
      - name: show
        script: ["echo second=$(cat VERSION) app=$(cat src/app.js)"]
  bare:
    checkout: false
    steps:
      - name: look
        script: ["test ! -e VERSION && test -z \\"$(ls -A /workspace)\\" && echo bare got nothing"]
  placed:
    checkout:
      path: sub/dir
    steps:
      - name: show
        script: ["echo placed=$(cat sub/dir/VERSION)"]
`);

const docker = new Docker();
let work = '';
let head = '';
let trees: SourceTrees;
let subject: TestStore;
let cleanup: () => Promise<void> = async () => undefined;

async function output(runId: string, job: string): Promise<string> {
  const { records } = await logs.read(runId);
  return records
    .filter((record) => record.job === job)
    .map((record) => record.line)
    .join('\n');
}

function source(commit: string): RunSource {
  return { repository: work, commit, ref: 'refs/heads/main', branch: 'main', event: 'manual' };
}

describe('source checkout', () => {
  before(async () => {
    const scratch = await scratchDir('checkout');
    cleanup = scratch.cleanup;
    work = path.join(scratch.dir, 'app');
    head = await createWorkTree(work, { VERSION: '1.0.0\n', 'src/app.js': 'console.log(1);\n' });
    subject = await createTestStore('s3');
    trees = new SourceTrees(path.join(scratch.dir, 'trees'));
  });
  after(async () => {
    await trees?.sweep(docker, 0).catch(() => undefined);
    await subject?.dispose();
    await cleanup();
  });

  it('archives the commit once; every job sees that tree even after a new commit lands mid-run; checkout: false and checkout.path', async () => {
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('checkout');
    const runId = `run-checkout-${randomUUID().slice(0, 8)}`;
    const status = await withWorkers(
      taskQueue,
      async () => {
        const handle = await env.client.workflow.start('pipelineRun', {
          taskQueue,
          workflowId: runId,
          args: [{ ...runInput(pipeline('checkout')), source: source(head) }],
        });
        // Once the first job runs (the archive exists), a new commit moves the branch.
        await eventually('the first job running', async () => {
          const live = await handle.query(statusQuery);
          return live.jobs.first?.status === 'running' ? true : undefined;
        });
        await commitFiles(work, { VERSION: '2.0.0\n' }, 'A newer commit');
        return finalStatus(handle);
      },
      { store: subject.store, scratchDir: subject.spoolDir, sourceTrees: trees },
    );
    assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));
    assert.match(await output(runId, 'first'), /^first=1\.0\.0$/m);
    assert.match(await output(runId, 'second'), /^second=1\.0\.0 app=console\.log\(1\);$/m);
    assert.match(await output(runId, 'bare'), /bare got nothing/);
    assert.match(await output(runId, 'placed'), /^placed=1\.0\.0$/m);

    const archive = status.sourceArchive!;
    assert.match(archive.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(archive.files, 2);
    assert.ok((await subject.store.statContent(archive.digest.slice(7)))?.size === archive.size);
    // One archive for the run; one verified extraction per checking-out job (not for `bare`).
    const history = await env.client.workflow.getHandle(runId).fetchHistory();
    const scheduled = (type: string) =>
      (history.events ?? []).filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === type)
        .length;
    assert.equal(scheduled('archiveSource'), 1);
    assert.equal(scheduled('extractSource'), 3);
    // The run's reference to its archive is gone once it ended.
    assert.deepEqual(await new ArtifactCatalog(subject.store).references(archive.digest.slice(7)), []);
    assert.deepEqual(await leftoversOf(runId), []);
    // Overlay workspaces (docs/triggers.md): no job's writable layer is left and nothing is mounted; the host's
    // trees (the root and `checkout.path`) stay for the next run of the commit until the sweep finds them unused.
    assert.deepEqual(await readdir(path.join(trees.dir, 'jobs')), []);
    assert.equal((await readdir(path.join(trees.dir, 'lower'))).length, 2);
    assert.ok(!(await readFile('/proc/mounts', 'utf8')).includes(trees.dir));
    assert.deepEqual(await trees.sweep(docker, 0), { trees: 2, jobs: 0 });
  });

  it('checkout.submodules puts each submodule in the archive at the commit its superproject records', async () => {
    const root = path.dirname(work);
    const lib = path.join(root, 'lib');
    const libFirst = await createWorkTree(lib, { 'lib.txt': 'lib one\n' });
    const app = path.join(root, 'with-submodule');
    await createWorkTree(app, { VERSION: '3.0.0\n' });
    // A relative URL, as projects write them: resolved against the superproject's own location.
    await git(app, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', '../lib', 'vendor/lib');
    await git(app, 'commit', '--quiet', '-m', 'Add the library');
    const commit = await git(app, 'rev-parse', 'HEAD');
    // The library moves on after the superproject recorded it: the archive holds the recorded commit.
    await commitFiles(lib, { 'lib.txt': 'lib two\n' }, 'A newer library');

    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('checkout-sub');
    const runId = `run-checkout-sub-${randomUUID().slice(0, 8)}`;
    const withSubmodules = pipelineFrom(`
name: checkout-sub
checkout:
  submodules: true
jobs:
  build:
    steps:
      - name: show
        script: ["echo version=$(cat VERSION) lib=$(cat vendor/lib/lib.txt) git=$(test -e vendor/lib/.git && echo yes || echo no)"]
`);
    const status = await withWorkers(
      taskQueue,
      async () => {
        const handle = await env.client.workflow.start('pipelineRun', {
          taskQueue,
          workflowId: runId,
          args: [{ ...runInput(withSubmodules), source: { ...source(commit), repository: app } }],
        });
        return finalStatus(handle);
      },
      { store: subject.store, scratchDir: subject.spoolDir, sourceTrees: trees },
    );
    assert.equal(status.status, 'success', JSON.stringify(status, null, 1));
    assert.match(await output(runId, 'build'), /^version=3\.0\.0 lib=lib one git=no$/m);
    assert.notEqual(libFirst, await git(lib, 'rev-parse', 'HEAD'));
    // VERSION, .gitmodules and the library's lib.txt.
    assert.equal(status.sourceArchive!.files, 3);
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it('an archive whose stored bytes no longer match its digest fails the job artifact_corrupted before any step', async () => {
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('checkout-bad');
    const only = pipeline('checkout-bad');
    only.jobs = only.jobs.filter((job) => job.name === 'first');
    const run = (runId: string) =>
      withWorkers(
        taskQueue,
        async () =>
          finalStatus(
            await env.client.workflow.start('pipelineRun', {
              taskQueue,
              workflowId: runId,
              args: [{ ...runInput(only), source: source(head) }],
            }),
          ),
        { store: subject.store, scratchDir: subject.spoolDir, sourceTrees: trees },
      );
    const good: PipelineRunStatus = await run(`run-checkout-good-${randomUUID().slice(0, 8)}`);
    assert.equal(good.status, 'success');
    // The host's verified tree of that archive would serve the next run without fetching: gone, it must fetch.
    await trees.sweep(docker, 0);
    const hex = good.sourceArchive!.digest.slice(7);
    const chunks: Buffer[] = [];
    for await (const chunk of await subject.store.getContent(hex)) chunks.push(chunk as Buffer);
    const flipped = Buffer.concat(chunks);
    flipped[600] = flipped[600]! ^ 0x01;
    await subject.s3!.client.putObject(subject.s3!.bucket, contentKey(hex), flipped, flipped.length);

    // The same commit gives the same archive, already stored: the bad object is what the job fetches.
    const runId = `run-checkout-bad-${randomUUID().slice(0, 8)}`;
    const bad = await run(runId);
    assert.equal(bad.sourceArchive?.digest, good.sourceArchive!.digest);
    const job = bad.jobs.first!;
    assert.equal(bad.status, 'failed');
    assert.equal(job.reason, 'artifact_corrupted', JSON.stringify(job));
    assert.match(job.message ?? '', /^checkout: .*integrity check failed/);
    assert.deepEqual(
      job.steps.map((step) => step.status),
      ['skipped'],
    );
    assert.equal(await output(runId, 'first'), '');
    assert.deepEqual(await leftoversOf(runId), []);
  });
});
