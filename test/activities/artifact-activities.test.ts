/**
 * The artifact activities against the real Docker engine and both stores (a temp dir, and the stack's MinIO):
 * workspaces are read and written directly through a local engine's volume or through Docker's archive API (both
 * tested, and both give the same bytes).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import tar from 'tar-stream';
import { createArtifactActivities, type ArtifactInput } from '../../activities/artifacts/activities';
import { ArtifactCatalog, artifactRecordKey } from '../../activities/artifacts/catalog';
import { createTestStore, overwriteContent, type TestStore } from '../helpers/stores';
import { docker } from '../helpers/temporal';
import { createWorkspace, removeRunResources, runInWorkspace } from '../helpers/workspaces';
import { Readable } from 'node:stream';
import { localWorkspaceDir } from '../../activities/artifacts/workspace-io';

/**
 * Runs `body` with workspaces written directly (the default on a local engine: the system tar, or entry by entry
 * with `direct`) or through the archive API.
 */
async function withWorkspaceIo<T>(io: 'tar' | 'direct' | 'archive', body: () => Promise<T>): Promise<T> {
  const before = process.env.CONVEYOR_WORKSPACE_IO;
  if (io === 'tar') delete process.env.CONVEYOR_WORKSPACE_IO;
  else process.env.CONVEYOR_WORKSPACE_IO = io;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.CONVEYOR_WORKSPACE_IO;
    else process.env.CONVEYOR_WORKSPACE_IO = before;
  }
}

const producerScript = `
mkdir -p out/nested/deeper out/empty
printf 'hello\\n' > out/nested/deeper/hello.txt
: > out/zero-bytes
printf 'spaces and ünïcode\\n' > 'out/a file with spaces ünïcode.txt'
printf '#!/bin/sh\\necho script ran\\n' > out/run.sh && chmod 755 out/run.sh
head -c 3000000 /dev/urandom > out/random.bin
ln out/random.bin out/random-hard-link.bin
ln -s nested/deeper/hello.txt out/link-to-hello
echo not-an-artifact > elsewhere.txt
cd out && find . -type f -exec sha256sum {} + > ../manifest.sha256
`;

/** Runs an activity with a Temporal activity context; returns its result or the ApplicationFailure it threw. */
async function run<A, R>(fn: (input: A) => Promise<R>, input: A): Promise<R> {
  return new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }).run(fn, input);
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the activity to fail');
}

/** A tar archive made by hand, for hostile inputs. */
async function handMadeTar(entries: (Partial<tar.Header> & { name: string; content?: string })[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { content, ...header } of entries) pack.entry(header, content ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

for (const kind of ['fs', 's3'] as const) {
  describe(`artifact activities (${kind} store, real Docker)`, () => {
    const runId = `run-artifact-activities-${kind}-${randomUUID().slice(0, 8)}`;
    let subject: TestStore;
    let activities: ReturnType<typeof createArtifactActivities>;
    let produced: ArtifactInput;
    const input = (job: string, artifacts: ArtifactInput[]) => ({ runId, job, artifacts });

    before(async () => {
      subject = await createTestStore(kind);
      activities = createArtifactActivities({ store: subject.store, docker, spoolDir: subject.spoolDir });
      await createWorkspace({ runId, job: 'build' });
      const made = await runInWorkspace({ runId, job: 'build' }, producerScript);
      assert.equal(made.exitCode, 0, made.output);
    });
    after(async () => {
      await removeRunResources(runId);
      await subject.dispose();
    });

    it('packs the selected files of a workspace into the store and records them', async () => {
      const result = await run(activities.uploadArtifacts, {
        runId,
        pipeline: 'artifact-test',
        job: 'build',
        artifacts: [{ name: 'out', paths: ['out', 'manifest.sha256'] }],
        consumers: ['test'],
      });
      const out = result.artifacts.out!;
      assert.match(out.digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(out.files, 7, 'regular files: hello, zero-bytes, spaces, run.sh, random.bin, its link, manifest');
      assert.equal(out.deduplicated, false);
      assert.equal(out.bytesWritten, out.size);
      const catalog = new ArtifactCatalog(subject.store);
      const record = await catalog.getRecord(artifactRecordKey('artifact-test', runId, 'build', 'out'));
      assert.equal(record?.digest, out.digest);
      assert.deepEqual(record?.paths, ['out', 'manifest.sha256']);
      const references = await catalog.references(out.digest.slice(7));
      assert.deepEqual(
        references.map((r) => r.reference.kind === 'job' && r.reference.job),
        ['test'],
        'the consumer holds a reference until it finishes',
      );
      produced = { name: 'out', producer: 'build', producerRun: runId, pipeline: 'artifact-test', ...out };
    });

    // A local engine's volume is read directly through its mountpoint; a remote one through the archive API.
    for (const io of ['direct', 'archive'] as const) {
      it(`packs the same bytes reading the workspace ${io === 'direct' ? 'directly' : 'through the archive API'}`, async () => {
        const result = await withWorkspaceIo(io, async () => {
          const dir = await localWorkspaceDir(docker, { runId, job: 'build' });
          assert.equal(dir === undefined ? 'archive' : 'direct', io);
          return run(activities.uploadArtifacts, {
            runId,
            pipeline: 'artifact-test',
            job: 'build',
            artifacts: [{ name: `out-${io}`, paths: ['out', 'manifest.sha256'] }],
          });
        });
        const out = result.artifacts[`out-${io}`]!;
        assert.equal(out.digest, produced.digest, 'symlink, hard link, modes and order as the other way');
        assert.equal(out.files, 7);
        assert.equal(out.deduplicated, true);
      });
    }

    it('never reads through a symlink leading out of the workspace (direct)', async () => {
      const job = 'sneaky';
      const outside = await mkdtemp(path.join(os.tmpdir(), 'conveyor-outside-'));
      try {
        await writeFile(path.join(outside, 'secret.txt'), 'host secret');
        await createWorkspace({ runId, job });
        const planted = await runInWorkspace({ runId, job }, `ln -s ${outside} out && ln -s ${outside} whole`);
        assert.equal(planted.exitCode, 0, planted.output);
        assert.ok(await localWorkspaceDir(docker, { runId, job }), 'the engine is local');
        const upload = (name: string, paths: string[]) =>
          failure(
            run(activities.uploadArtifacts, { runId, pipeline: 'artifact-test', job, artifacts: [{ name, paths }] }),
          );
        // Through a symlinked directory: Docker resolves it inside the container, where there is no such file.
        const through = await upload('secret', ['out/secret.txt']);
        assert.equal(through.type, 'ArtifactMissingError');
        // The symlink itself: packed as a link, and refused because it leaves the workspace.
        const link = await upload('whole', ['whole']);
        assert.equal(link.type, 'ArtifactUnsafeError');
        assert.match(link.message, /'whole' is a symlink to the absolute path/);
      } finally {
        await rm(outside, { recursive: true, force: true });
      }
    });

    it('gives the same digest for the same files in another workspace, and writes no content bytes the second time', async () => {
      // The same files, written at another time into another volume: extracted from the first upload.
      await run(activities.downloadArtifacts, input('rebuild', [produced]));
      const again = await run(activities.uploadArtifacts, {
        runId,
        pipeline: 'artifact-test',
        job: 'rebuild',
        artifacts: [{ name: 'out', paths: ['out', 'manifest.sha256'] }],
      });
      assert.equal(again.artifacts.out!.digest, produced.digest);
      assert.equal(again.artifacts.out!.bytesWritten, 0);
      assert.equal(again.artifacts.out!.deduplicated, true);
    });

    // A local engine's volume is written directly through its mountpoint; a remote one through the archive API.
    for (const io of ['tar', 'direct', 'archive'] as const) {
      it(`extracts verified inputs into a fresh workspace at their paths, modes and links intact (${io})`, async () => {
        const job = `test-${io}`;
        const result = await withWorkspaceIo(io, async () => {
          await createWorkspace({ runId, job });
          const dir = await localWorkspaceDir(docker, { runId, job });
          assert.equal(dir === undefined, io === 'archive');
          return run(activities.downloadArtifacts, input(job, [produced]));
        });
        assert.deepEqual(result, { artifacts: 1, files: 7, bytes: produced.size, via: io });
        const check = await runInWorkspace(
          { runId, job },
          `cd out && sha256sum -c ../manifest.sha256 && ./run.sh && test -d empty && test -L link-to-hello && cat link-to-hello
           test ! -e ../elsewhere.txt && touch new-file && stat -c '%u:%g %a %n' . run.sh zero-bytes`,
        );
        assert.equal(check.exitCode, 0, check.output);
        assert.match(check.output, /script ran/);
        assert.match(check.output, /hello/);
        assert.match(check.output, /1000:1000 755 \.\n1000:1000 755 run\.sh\n1000:1000 644 zero-bytes/);
      });
    }

    it('never writes through a symlink already in the workspace (direct)', async () => {
      const job = 'planted';
      const outside = await mkdtemp(path.join(os.tmpdir(), 'conveyor-outside-'));
      try {
        await createWorkspace({ runId, job });
        const planted = await runInWorkspace({ runId, job }, `ln -s ${outside} out`);
        assert.equal(planted.exitCode, 0, planted.output);
        const error = await failure(run(activities.downloadArtifacts, input(job, [produced])));
        assert.equal(error.type, 'ArtifactUnsafeError');
        assert.match(error.message, /artifact 'out' of job 'build' is unsafe: 'out' is in the workspace already/);
        assert.deepEqual(await readdir(outside), [], 'nothing written through the link');
      } finally {
        await rm(outside, { recursive: true, force: true });
      }
    });

    /** Stores a hand-made archive as an input of the producer job. */
    const handMadeInput = async (name: string, entries: Parameters<typeof handMadeTar>[0]): Promise<ArtifactInput> => {
      const { digest, size } = await subject.store.putContent(Readable.from([await handMadeTar(entries)]));
      return { ...produced, name, digest: `sha256:${digest}`, size, files: entries.length };
    };

    it('extracts several inputs with the system tar over what the workspace holds: a later input replaces a file', async () => {
      const job = 'layered';
      await createWorkspace({ runId, job });
      const checkout = await runInWorkspace({ runId, job }, 'mkdir -p shared src && echo checkout > src/main.c');
      assert.equal(checkout.exitCode, 0, checkout.output);
      const first = await handMadeInput('first', [
        { name: 'shared', type: 'directory', mode: 0o755 },
        { name: 'shared/x.txt', content: 'first\n', mode: 0o644 },
        { name: 'only-first.txt', content: 'first\n', mode: 0o644 },
        { name: 'link', type: 'symlink', linkname: 'shared/x.txt' },
      ]);
      const second = await handMadeInput('second', [
        { name: 'shared/x.txt', content: 'second\n', mode: 0o644 },
        { name: 'link', content: 'now a file\n', mode: 0o644 },
      ]);
      const result = await run(activities.downloadArtifacts, input(job, [first, second]));
      assert.equal(result.via, 'tar');
      const check = await runInWorkspace(
        { runId, job },
        `cat shared/x.txt only-first.txt src/main.c link && test ! -L link && stat -c '%u:%g' shared/x.txt link`,
      );
      assert.equal(check.exitCode, 0, check.output);
      assert.equal(check.output, 'second\nfirst\ncheckout\nnow a file\n1000:1000\n1000:1000\n');
    });

    it('refuses an input that would write through a symlink an earlier input makes, extracting neither', async () => {
      const job = 'through-earlier-link';
      await createWorkspace({ runId, job });
      const first = await handMadeInput('first', [
        { name: 'sub', type: 'directory', mode: 0o755 },
        { name: 'l', type: 'symlink', linkname: 'sub' },
      ]);
      const second = await handMadeInput('second', [{ name: 'l/x.txt', content: 'x', mode: 0o644 }]);
      const error = await failure(run(activities.downloadArtifacts, input(job, [first, second])));
      assert.equal(error.type, 'ArtifactUnsafeError');
      assert.match(error.message, /artifact 'second' of job 'build' is unsafe: 'l' is in the workspace already/);
      const listing = await runInWorkspace({ runId, job }, 'ls -A /workspace | wc -l');
      assert.equal(listing.output.trim(), '0');
    });

    it('refuses a file where the workspace has a directory, before extracting anything', async () => {
      const job = 'file-over-directory';
      await createWorkspace({ runId, job });
      const made = await runInWorkspace({ runId, job }, 'mkdir -p out/x && echo kept > kept.txt');
      assert.equal(made.exitCode, 0, made.output);
      const clash = await handMadeInput('clash', [
        { name: 'new.txt', content: 'x', mode: 0o644 },
        { name: 'out/x', content: 'x', mode: 0o644 },
      ]);
      const error = await failure(run(activities.downloadArtifacts, input(job, [clash])));
      assert.equal(error.type, 'ArtifactUnsafeError');
      assert.match(error.message, /'out\/x' is a directory in the workspace already/);
      const listing = await runInWorkspace({ runId, job }, 'ls -A /workspace');
      assert.equal(listing.output, 'kept.txt\nout\n');
    });

    it('fails artifact_missing naming a pattern that matches nothing, publishing nothing', async () => {
      const error = await failure(
        run(activities.uploadArtifacts, {
          runId,
          pipeline: 'artifact-test',
          job: 'build',
          artifacts: [{ name: 'reports', paths: ['out/run.sh', 'reports/**/*.xml'] }],
        }),
      );
      assert.equal(error.type, 'ArtifactMissingError');
      assert.equal(error.nonRetryable, true);
      assert.match(error.message, /'reports\/\*\*\/\*\.xml' matched no file/);
      const record = await new ArtifactCatalog(subject.store).getRecord(
        artifactRecordKey('artifact-test', runId, 'build', 'reports'),
      );
      assert.equal(record, undefined);
    });

    it('stores nothing for an optional artifact that matches nothing', async () => {
      const result = await run(activities.uploadArtifacts, {
        runId,
        pipeline: 'artifact-test',
        job: 'build',
        artifacts: [{ name: 'maybe', paths: ['coverage/**'], optional: true }],
      });
      assert.deepEqual(result.artifacts, {});
    });

    it('refuses a corrupted object before touching the workspace: artifact_corrupted with both digests and the producer', async () => {
      const hex = produced.digest.slice(7);
      const original = await readAll(await subject.store.getContent(hex));
      const flipped = Buffer.from(original);
      flipped[flipped.length >> 1] = flipped[flipped.length >> 1]! ^ 0xff;
      await overwriteContent(subject, hex, flipped);
      try {
        await createWorkspace({ runId, job: 'corrupted' });
        const error = await failure(run(activities.downloadArtifacts, input('corrupted', [produced])));
        assert.equal(error.type, 'ArtifactDigestMismatchError');
        assert.equal(error.nonRetryable, true);
        assert.match(error.message, /artifact 'out' of job 'build' is corrupted/);
        assert.match(error.message, new RegExp(`expected sha256:${hex.slice(0, 16)}`));
        assert.match(error.message, /integrity check failed for sha256:[0-9a-f]{16}…/);
        const listing = await runInWorkspace({ runId, job: 'corrupted' }, 'ls -A /workspace | wc -l');
        assert.equal(listing.output.trim(), '0', 'nothing reached the workspace');
      } finally {
        await overwriteContent(subject, hex, original);
      }
    });

    const hostile: [string, (Partial<tar.Header> & { name: string; content?: string })[], RegExp][] = [
      ['an absolute path', [{ name: '/etc/evil', content: 'x' }], /absolute path/],
      [
        'a ../ path',
        [
          { name: 'ok.txt', content: 'x' },
          { name: '../escape.txt', content: 'x' },
        ],
        /through '\.\.'/,
      ],
      ['an escaping symlink', [{ name: 'link', type: 'symlink', linkname: '../../../etc' }], /outside the workspace/],
      ['a device node', [{ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }], /character device/],
    ];
    for (const [what, entries, problem] of hostile) {
      it(`refuses a hand-made archive with ${what}, leaving the workspace unchanged`, async () => {
        const { digest, size } = await subject.store.putContent(Readable.from([await handMadeTar(entries)]));
        const job = `hostile-${what.replace(/\W+/g, '-')}`;
        await createWorkspace({ runId, job });
        const artifact: ArtifactInput = { ...produced, name: 'evil', digest: `sha256:${digest}`, size, files: 1 };
        // The good artifact first: even it must not be extracted when another input is refused.
        const error = await failure(run(activities.downloadArtifacts, input(job, [produced, artifact])));
        assert.equal(error.type, 'ArtifactUnsafeError');
        assert.match(error.message, problem);
        const listing = await runInWorkspace({ runId, job }, 'ls -A /workspace | wc -l');
        assert.equal(listing.output.trim(), '0');
      });
    }

    it('verifies a stored artifact by digest (for deployments), and refuses a wrong size or a missing object', async () => {
      const ok = await run(activities.verifyArtifact, { digest: produced.digest, size: produced.size });
      assert.equal(ok.digest, produced.digest);
      const wrongSize = await failure(run(activities.verifyArtifact, { digest: produced.digest, size: 1 }));
      assert.equal(wrongSize.type, 'ArtifactDigestMismatchError');
      const missing = await failure(run(activities.verifyArtifact, { digest: `sha256:${'0'.repeat(64)}` }));
      assert.equal(missing.type, 'ArtifactMissingError');
    });

    it('releases the references a run holds', async () => {
      const { released } = await run(activities.releaseReferences, { runId, digests: [produced.digest] });
      assert.ok(released >= 1);
      assert.deepEqual(await new ArtifactCatalog(subject.store).references(produced.digest.slice(7)), []);
    });

    it('leaves no helper container, scratch file or unfinished upload behind', async () => {
      const helpers = await docker.listContainers({ all: true, filters: { label: [`conveyor.run=${runId}`] } });
      assert.deepEqual(
        helpers.map((c) => c.Names),
        [],
      );
      const leftovers = subject.s3
        ? (await subject.s3.client.listIncompleteUploadsQuery(subject.s3.bucket, '', '', '', '')).uploads
        : [];
      assert.deepEqual(leftovers, []);
      assert.equal(await subject.store.sweepTemporaries(new Date(Date.now() + 3600_000)), 0);
    });
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
