/**
 * The `extractSource` activity against the real Docker engine, MinIO and git (docs/artifacts.md#workspace-io): a
 * fresh local workspace gets the tree from the system tar, owned by the step user with 0644/0755 modes, a symlink
 * kept and `checkout.path` honoured; a workspace that already holds files (a retried attempt) is written entry by
 * entry instead, replacing what is there; `CONVEYOR_WORKSPACE_IO=archive` still goes through Docker's archive API;
 * jobs starting together on a worker fetch the archive from the store once; an archive with an unsafe entry writes
 * nothing; and no download is left in the scratch directory.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { ensureWorkspace } from '../../activities/docker-resources';
import { workspaceVolumeName } from '../../activities/names';
import { GitRepositories } from '../../activities/source/repositories';
import {
  createSourceActivities,
  type ExtractedSource,
  type ExtractSourceInput,
} from '../../activities/source/source-activities';
import type { ArtifactStore } from '../../activities/store/store';
import { formatDigest, parseDigest } from '../../activities/store/store';
import { SharedArchives } from '../../activities/artifacts/shared-content';
import type { SourceArchive } from '../../pipeline/source';
import { createTreeWithModesAndSymlink, scratchDir } from '../helpers/git';
import { createTestStore, type TestStore } from '../helpers/stores';

const docker = new Docker();
let work = '';
let head = '';
let subject: TestStore;
let cleanup: () => Promise<void> = async () => undefined;
const runId = `run-extract-${randomUUID().slice(0, 8)}`;
const volumes = new Set<string>();
let getContentCalls = 0;

/** The store, counting downloads. */
function countingStore(store: ArtifactStore): ArtifactStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'getContent') {
        return (...args: Parameters<ArtifactStore['getContent']>) => {
          getContentCalls += 1;
          return target.getContent(...args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function activities() {
  return createSourceActivities({
    repositories: new GitRepositories({ cacheDir: path.join(work, '..', 'cache') }),
    defaultImage: 'conveyor/busybox:latest',
    store: countingStore(subject.store),
    docker,
    spoolDir: subject.spoolDir,
  });
}

const run = <T>(fn: (input: never) => Promise<T>, input: unknown): Promise<T> =>
  new MockActivityEnvironment({ heartbeatTimeoutMs: 120_000 }).run(fn as (input: unknown) => Promise<T>, input);

async function extract(
  source: ReturnType<typeof activities>,
  archive: SourceArchive,
  job: string,
  checkoutPath = '',
): Promise<ExtractedSource> {
  volumes.add(workspaceVolumeName(runId, job, 1));
  const input: ExtractSourceInput = { runId, job, jobAttempt: 1, archive, path: checkoutPath };
  return run(source.extractSource, input);
}

async function workspaceDir(job: string): Promise<string> {
  return ((await docker.getVolume(workspaceVolumeName(runId, job, 1)).inspect()) as { Mountpoint: string }).Mountpoint;
}

async function describeTree(root: string, base = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(path.join(root, base))).sort()) {
    const relative = base ? `${base}/${name}` : name;
    const info = await lstat(path.join(root, relative));
    const owner = `${info.uid}:${info.gid}`;
    const mode = (info.mode & 0o777).toString(8);
    if (info.isSymbolicLink()) lines.push(`${relative} -> ${await readlink(path.join(root, relative))} ${owner}`);
    else if (info.isDirectory()) {
      lines.push(`${relative}/ ${mode} ${owner}`);
      lines.push(...(await describeTree(root, relative)));
    } else lines.push(`${relative} ${mode} ${owner} ${await readFile(path.join(root, relative), 'utf8')}`.trim());
  }
  return lines;
}

describe('extractSource', () => {
  let archive: SourceArchive;

  before(async () => {
    const scratch = await scratchDir('extract');
    cleanup = scratch.cleanup;
    work = path.join(scratch.dir, 'app');
    head = await createTreeWithModesAndSymlink(work);
    subject = await createTestStore('s3');
    archive = await run(activities().archiveSource, { runId, repository: work, commit: head });
  });
  after(async () => {
    for (const name of volumes) {
      await docker
        .getVolume(name)
        .remove()
        .catch(() => undefined);
    }
    await subject?.dispose();
    await cleanup();
  });

  const expected = [
    'VERSION 644 1000:1000 1.0.0',
    'bin/ 755 1000:1000',
    'bin/run 755 1000:1000 echo run',
    'main.js -> src/app.js 1000:1000',
    'src/ 755 1000:1000',
    'src/app.js 644 1000:1000 console.log(1);',
  ];

  it('extracts into a fresh local workspace with the system tar, as the step user', async () => {
    const source = activities();
    const results = await Promise.all(['tar-a', 'tar-b', 'tar-c'].map((job) => extract(source, archive, job)));
    assert.deepEqual(
      results.map((result) => [result.via, result.files]),
      [
        ['tar', 3],
        ['tar', 3],
        ['tar', 3],
      ],
    );
    for (const job of ['tar-a', 'tar-b', 'tar-c'])
      assert.deepEqual(await describeTree(await workspaceDir(job)), expected);
    assert.deepEqual(await readdir(subject.spoolDir).catch(() => []), []);
  });

  it('users that want the same archive at once share one download, removed after the last release', async () => {
    getContentCalls = 0;
    const shared = new SharedArchives(countingStore(subject.store), subject.spoolDir);
    const digest = parseDigest(archive.digest);
    const users = await Promise.all([1, 2, 3].map(() => shared.acquire(digest, archive.size, () => undefined)));
    assert.equal(getContentCalls, 1);
    assert.deepEqual(
      users.map((user) => user.contents.files),
      [3, 3, 3],
    );
    await users[0]!.release();
    await users[1]!.release();
    assert.equal((await readdir(subject.spoolDir)).length, 1);
    await users[2]!.release();
    assert.deepEqual(await readdir(subject.spoolDir), []);
  });

  it('puts the tree under checkout.path', async () => {
    const result = await extract(activities(), archive, 'placed', 'sub/dir');
    assert.equal(result.via, 'tar');
    const tree = await describeTree(await workspaceDir('placed'));
    assert.deepEqual(tree.slice(0, 2), ['sub/ 755 1000:1000', 'sub/dir/ 755 1000:1000']);
    assert.deepEqual(
      tree.slice(2),
      expected.map((line) => `sub/dir/${line}`),
    );
  });

  it('writes entry by entry into a workspace that already holds files, replacing them', async () => {
    await ensureWorkspace(docker, { runId, job: 'retried', jobAttempt: 1 });
    volumes.add(workspaceVolumeName(runId, 'retried', 1));
    const dir = await workspaceDir('retried');
    await writeFile(path.join(dir, 'VERSION'), 'partial');
    const result = await extract(activities(), archive, 'retried');
    assert.deepEqual([result.via, result.files], ['direct', 3]);
    assert.deepEqual(await describeTree(dir), expected);
  });

  it('goes through the archive API with CONVEYOR_WORKSPACE_IO=archive', async () => {
    process.env.CONVEYOR_WORKSPACE_IO = 'archive';
    try {
      const result = await extract(activities(), archive, 'api');
      assert.equal(result.via, 'archive');
    } finally {
      delete process.env.CONVEYOR_WORKSPACE_IO;
    }
    const tree = await describeTree(await workspaceDir('api'));
    assert.deepEqual(
      tree.filter((line) => !line.startsWith('main.js')),
      expected.filter((line) => !line.startsWith('main.js')),
    );
    assert.match(
      tree.find((line) => line.startsWith('main.js'))!,
      /^main\.js -> src\/app\.js /,
    );
  });

  it('an archive with an entry outside the workspace writes nothing', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'fine.txt' }, 'fine\n');
    pack.entry({ name: '../escaped.txt' }, 'bad\n');
    pack.finalize();
    const put = await subject.store.putContent(pack as unknown as NodeJS.ReadableStream as never);
    const bad: SourceArchive = { digest: formatDigest(put.digest), size: put.size, files: 2 };
    await assert.rejects(extract(activities(), bad, 'unsafe'), /escaped\.txt/);
    assert.deepEqual(await readdir(await workspaceDir('unsafe')), []);
    assert.deepEqual(await readdir(subject.spoolDir).catch(() => []), []);
  });
});
