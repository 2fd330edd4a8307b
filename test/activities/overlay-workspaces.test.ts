/**
 * Overlay workspaces (docs/triggers.md, "Overlay workspaces") against the real Docker engine, MinIO and git: jobs of
 * a run get `/workspace` as an overlay of one shared source tree per host — both see the whole tree with the step
 * user's ownership, the modes and the symlink, read by a step without git; what one job writes or deletes the other
 * never sees; removing the workspaces leaves no volume, layer or mount; the sweep removes the tree once no workspace
 * uses it (and keeps it while one does), and what a crashed worker left; an unsafe archive leaves no tree; a job with
 * `resources.disk` or `CONVEYOR_WORKSPACE_IO=archive` keeps the extraction of its own.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, utimes } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { deleteWorkspace, removeByLabel } from '../../activities/docker-resources';
import { labels, workspaceVolumeName } from '../../activities/names';
import { GitRepositories } from '../../activities/source/repositories';
import {
  createSourceActivities,
  type ExtractedSource,
  type ExtractSourceInput,
} from '../../activities/source/source-activities';
import { SourceTrees } from '../../activities/source/source-trees';
import { formatDigest } from '../../activities/store/store';
import type { SourceArchive } from '../../pipeline/source';
import { createTreeWithModesAndSymlink, scratchDir } from '../helpers/git';
import { createTestStore, type TestStore } from '../helpers/stores';

const exec = promisify(execFile);
const docker = new Docker();
const runId = `run-overlay-${randomUUID().slice(0, 8)}`;
let work = '';
let subject: TestStore;
let trees: SourceTrees;
let cleanup: () => Promise<void> = async () => undefined;

function activities() {
  return createSourceActivities({
    repositories: new GitRepositories({ cacheDir: path.join(work, '..', 'cache') }),
    defaultImage: 'conveyor/busybox:latest',
    store: subject.store,
    docker,
    spoolDir: subject.spoolDir,
    trees,
  });
}

const run = <T>(fn: (input: never) => Promise<T>, input: unknown): Promise<T> =>
  new MockActivityEnvironment({ heartbeatTimeoutMs: 120_000 }).run(fn as (input: unknown) => Promise<T>, input);

function extract(
  archive: SourceArchive,
  job: string,
  extra: Partial<ExtractSourceInput> = {},
): Promise<ExtractedSource> {
  const input: ExtractSourceInput = { runId, job, jobAttempt: 1, archive, path: '', ...extra };
  return run(activities().extractSource, input);
}

/** Runs `script` in a busybox container (no git in it) as the step user, with the job's workspace; its output. */
async function inWorkspace(job: string, script: string): Promise<string> {
  const { stdout } = await exec('docker', [
    'run',
    '--rm',
    '--user',
    '1000:1000',
    '--cap-drop',
    'ALL',
    '--network',
    'none',
    '--label',
    `${labels.run}=${runId}`,
    '--mount',
    `type=volume,source=${workspaceVolumeName(runId, job, 1)},target=/workspace`,
    '--workdir',
    '/workspace',
    'conveyor/busybox:latest',
    'sh',
    '-c',
    script,
  ]);
  return stdout.trim();
}

/** The workspace as the step sees it: path, mode, owner and type (or link target), then the files' contents. */
const describeScript =
  'find . -mindepth 1 | sort | while read f; do if [ -L "$f" ]; then echo "$f -> $(readlink "$f") $(stat -c %u:%g "$f")"; ' +
  'else stat -c "%n %a %u:%g %F" "$f"; fi; done; cat VERSION src/app.js main.js';

const expected = [
  './VERSION 644 1000:1000 regular file',
  './bin 755 1000:1000 directory',
  './bin/run 755 1000:1000 regular file',
  './main.js -> src/app.js 1000:1000',
  './src 755 1000:1000 directory',
  './src/app.js 644 1000:1000 regular file',
  '1.0.0',
  'console.log(1);',
  'console.log(1);',
].join('\n');

async function overlayMounts(): Promise<string[]> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').filter((line) => line.includes(trees.dir));
}

describe('overlay workspaces', () => {
  let archive: SourceArchive;

  before(async () => {
    const scratch = await scratchDir('overlay');
    cleanup = scratch.cleanup;
    work = path.join(scratch.dir, 'app');
    trees = new SourceTrees(path.join(scratch.dir, 'trees'));
    const head = await createTreeWithModesAndSymlink(work);
    subject = await createTestStore('s3');
    archive = await run(activities().archiveSource, { runId, repository: work, commit: head });
  });
  after(async () => {
    await removeByLabel(docker, `${labels.run}=${runId}`).catch(() => undefined);
    await trees?.sweep(docker, 0).catch(() => undefined);
    await subject?.dispose();
    await cleanup();
  });

  it('jobs share one tree, see all of it as the step user, and keep their writes and deletions to themselves', async () => {
    const results = await Promise.all(['a', 'b'].map((job) => extract(archive, job)));
    assert.deepEqual(
      results.map((result) => [result.via, result.files]),
      [
        ['overlay', archive.files],
        ['overlay', archive.files],
      ],
    );
    // One tree on the host, built once for both jobs.
    assert.deepEqual(await readdir(path.join(trees.dir, 'lower')), [archive.digest.slice(7)]);
    assert.equal(results.filter((result) => result.timings.extractMs > 0 || result.timings.fetchMs > 0).length, 1);
    assert.equal(await inWorkspace('a', describeScript), expected);
    assert.equal(await inWorkspace('b', describeScript), expected);

    await inWorkspace('a', 'echo mine > built.txt && rm VERSION && echo changed > src/app.js && mkdir out');
    assert.equal(await inWorkspace('a', 'ls; cat src/app.js'), 'bin\nbuilt.txt\nmain.js\nout\nsrc\nchanged');
    // The other job's workspace, and the shared tree, are as they were.
    assert.equal(await inWorkspace('b', describeScript), expected);
    assert.equal(await readFile(path.join(trees.treeDir(archive.digest.slice(7)), 'VERSION'), 'utf8'), '1.0.0\n');
    // Each job's writes persist from step to step within that job.
    assert.equal(await inWorkspace('a', 'cat built.txt; test -e VERSION || echo gone'), 'mine\ngone');
  });

  it('removing the workspaces leaves no volume, layer or mount; the sweep keeps a used tree and removes an unused one', async () => {
    await extract(archive, 'c');
    const key = archive.digest.slice(7);
    await inWorkspace('c', 'echo x > y');
    for (const job of ['a', 'b']) await deleteWorkspace(docker, { runId, job });
    assert.deepEqual((await readdir(path.join(trees.dir, 'jobs'))).sort(), [workspaceVolumeName(runId, 'c', 1)]);
    // Workspace `c` still overlays the tree: even a sweep that keeps nothing unused for long leaves it.
    assert.deepEqual(await trees.sweep(docker, 0), { trees: 0, jobs: 0 });
    assert.deepEqual(await readdir(path.join(trees.dir, 'lower')), [key]);
    // Removed the way a run's cleanup and the sweeper remove volumes.
    await removeByLabel(docker, `${labels.run}=${runId}`);
    assert.deepEqual(await readdir(path.join(trees.dir, 'jobs')), []);
    assert.deepEqual(await overlayMounts(), []);
    // Unused, but taken just now: kept for a while.
    assert.deepEqual(await trees.sweep(docker), { trees: 0, jobs: 0 });
    assert.deepEqual(await readdir(path.join(trees.dir, 'lower')), [key]);
    assert.deepEqual(await trees.sweep(docker, 0), { trees: 1, jobs: 0 });
    assert.deepEqual(await readdir(path.join(trees.dir, 'lower')), []);
    assert.deepEqual(await readdir(path.join(trees.dir, 'used')), []);
  });

  it('the sweep removes what a crashed worker left: a half-built tree and a layer whose volume was never made', async () => {
    const staging = path.join(trees.dir, 'lower', `.staging-${'0'.repeat(64)}-1-dead`);
    const layer = trees.jobDir(workspaceVolumeName(runId, 'crashed', 1));
    await mkdir(path.join(staging, 'src'), { recursive: true });
    await mkdir(path.join(layer, 'upper'), { recursive: true });
    const old = new Date(Date.now() - 3600_000);
    for (const dir of [staging, layer]) await utimes(dir, old, old);
    assert.deepEqual(await trees.sweep(docker, 60_000), { trees: 0, jobs: 1 });
    assert.deepEqual(await readdir(path.join(trees.dir, 'lower')), []);
    assert.deepEqual(await readdir(path.join(trees.dir, 'jobs')), []);
  });

  it('an archive with an entry outside the workspace leaves no tree and no workspace', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'fine.txt' }, 'ok\n');
    pack.entry({ name: '../escape.txt' }, 'no\n');
    pack.finalize();
    const put = await subject.store.putContent(pack as unknown as NodeJS.ReadableStream as never);
    const unsafe = { digest: formatDigest(put.digest), size: put.size, files: 2 };
    await assert.rejects(extract(unsafe, 'unsafe'), /escape\.txt|outside/);
    assert.deepEqual(await readdir(path.join(trees.dir, 'lower')), []);
    await assert.rejects(docker.getVolume(workspaceVolumeName(runId, 'unsafe', 1)).inspect(), /no such volume/i);
    await subject.store.deleteContent(put.digest);
  });

  it('resources.disk and CONVEYOR_WORKSPACE_IO=archive keep the extraction of their own', async () => {
    const sized = await extract(archive, 'sized', { diskBytes: 64 * 1024 * 1024 });
    assert.notEqual(sized.via, 'overlay');
    process.env.CONVEYOR_WORKSPACE_IO = 'archive';
    try {
      assert.equal((await extract(archive, 'remote')).via, 'archive');
    } finally {
      delete process.env.CONVEYOR_WORKSPACE_IO;
    }
    assert.equal(await inWorkspace('remote', 'cat VERSION'), '1.0.0');
    assert.deepEqual(await readdir(path.join(trees.dir, 'lower')).catch(() => []), []);
    await removeByLabel(docker, `${labels.run}=${runId}`);
  });
});
