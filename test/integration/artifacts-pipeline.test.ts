/**
 * Artifacts in runs (docs/artifacts.md), on both stores, with real Temporal, Docker and MinIO: a producer's files
 * reach its dependents byte for byte, and only them; dedup across runs; a corrupted object stops the consumer
 * before its first step; `rerun --failed` reuses the producer's artifact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ArtifactCatalog, artifactRecordKey } from '../../activities/artifacts/catalog';
import { scrubStore } from '../../activities/artifacts/scrub';
import { toJsonSummary } from '../../client/run-summary';
import {
  closeTestEnvironment,
  leftoversOf,
  logs,
  testEnvironment,
  uniqueTaskQueue,
  withWorkers,
} from '../helpers/temporal';
import {
  createTestStore,
  overwriteContent as overwrite,
  readStoredContent as readContent,
  type TestStore,
} from '../helpers/stores';
import { finalStatus, pipelineFrom, runInput } from '../helpers/artifact-runs';
import type { PipelineRunInput, PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { artifactSettings as settingsFrom, type ArtifactSettings } from '../../config/artifacts-config';

const acceptance = `
name: artifacts-acceptance
jobs:
  build:
    steps:
      - name: produce
        script:
          - mkdir -p out/nested/deeper out/empty-dir
          - printf 'hello\\n' > out/nested/deeper/hello.txt
          - ": > out/zero-bytes"
          - printf 'spaces and ünïcode\\n' > 'out/a file with spaces ünïcode ✓.txt'
          - printf '#!/bin/sh\\necho script ran\\n' > out/run.sh
          - chmod 755 out/run.sh
          - head -c 52428800 /dev/urandom > out/random-50mb.bin
          - cd out && find . -type f -exec sha256sum {} + > ../checksums.sha256
    artifacts:
      dist: [out, checksums.sha256]
  test:
    needs: [build]
    steps:
      - name: check
        script:
          - cd out && sha256sum -c ../checksums.sha256
          - test -d empty-dir && test -f zero-bytes && test ! -s zero-bytes
          - ./run.sh
  lint:
    needs: [build]
    artifacts_from: []
    steps:
      - name: look
        script: ["test ! -e out && echo lint got nothing"]
  unrelated:
    steps:
      - name: look
        script: ["test ! -e out && test ! -e checksums.sha256 && echo unrelated got nothing"]
`;

/** A job that needs `build` and must end skipped when `build` fails. */
const dependentOfBuild = `  after:
    needs: [build]
    steps:
      - name: never
        script: ["echo never"]
`;

/** Runs `input` with workers wired to `subject`'s store; returns its id and final status. */
async function run(
  subject: TestStore,
  input: PipelineRunInput,
  name: string,
  artifactSettings?: ArtifactSettings,
): Promise<{ runId: string; status: PipelineRunStatus }> {
  const env = await testEnvironment();
  const taskQueue = uniqueTaskQueue(name);
  const runId = `run-${name}-${taskQueue}`;
  const status = await withWorkers(
    taskQueue,
    async () =>
      finalStatus(await env.client.workflow.start('pipelineRun', { taskQueue, workflowId: runId, args: [input] })),
    { store: subject.store, scratchDir: subject.spoolDir, artifactSettings },
  );
  return { runId, status };
}

async function output(runId: string, job: string): Promise<string> {
  const { records } = await logs.read(runId);
  return records
    .filter((record) => record.job === job)
    .map((record) => record.line)
    .join('\n');
}

after(() => closeTestEnvironment());

for (const kind of ['s3', 'fs'] as const) {
  describe(`artifacts in runs (${kind} store)`, () => {
    let subject: TestStore;
    let first: { runId: string; status: PipelineRunStatus };
    before(async () => {
      subject = await createTestStore(kind);
    });
    after(() => subject.dispose());

    it("hands build's files to test byte for byte — nested, empty dir, 0-byte, unicode, executable, 50 MB — and to no one else", async () => {
      first = await run(subject, runInput(pipelineFrom(acceptance)), `artifacts-${kind}`);
      const { runId, status } = first;
      assert.equal(status.status, 'success', JSON.stringify(status.jobs, null, 1));
      const test = await output(runId, 'test');
      assert.match(test, /random-50mb\.bin: OK/);
      assert.match(test, /a file with spaces ünïcode ✓\.txt: OK/);
      assert.match(test, /script ran/);
      assert.match(await output(runId, 'lint'), /lint got nothing/);
      assert.match(await output(runId, 'unrelated'), /unrelated got nothing/);
      const dist = status.jobs.build!.artifacts!.dist!;
      assert.match(dist.digest, /^sha256:[0-9a-f]{64}$/);
      assert.ok(dist.size > 52428800);
      assert.equal(dist.files, 6);
      // The run's --json summary carries digests and sizes per job.
      const summary = toJsonSummary(runId, status) as { jobs: Record<string, { artifacts: Record<string, unknown> }> };
      assert.deepEqual(summary.jobs.build!.artifacts, { dist: { digest: dist.digest, size: dist.size, files: 6 } });
      assert.deepEqual(summary.jobs.test!.artifacts, {});
      // The history holds digests and sizes, never the 50 MB of content.
      const env = await testEnvironment();
      const history = await env.client.workflow.getHandle(runId).fetchHistory();
      assert.ok(JSON.stringify(history).length < 500_000, 'the history stays small');
      const record = await new ArtifactCatalog(subject.store).getRecord(
        artifactRecordKey('artifacts-acceptance', runId, 'build', 'dist'),
      );
      assert.deepEqual([record?.digest, record?.producer.job], [dist.digest, 'build']);
      const consumers = await new ArtifactCatalog(subject.store).consumers(dist.digest.slice(7));
      assert.deepEqual(
        consumers.map((c) => c.job),
        ['test'],
      );
      assert.deepEqual(await leftoversOf(runId), []);
    });

    it('stores identical content once: a second run writes 0 content bytes and reuses the object', async () => {
      const pipeline = pipelineFrom(`
name: dedup-${kind}
jobs:
  make:
    steps:
      - name: write
        script: ["mkdir -p pkg", "printf 'same bytes every time\\n' > pkg/file.txt", "seq 1 20000 > pkg/numbers"]
    artifacts:
      pkg: pkg
`);
      const one = await run(subject, runInput(pipeline), `dedup-a-${kind}`);
      const two = await run(subject, runInput(pipeline), `dedup-b-${kind}`);
      const [a, b] = [one.status.jobs.make!.artifacts!.pkg!, two.status.jobs.make!.artifacts!.pkg!];
      assert.equal(a.digest, b.digest, 'the same files give the same digest in another run');
      assert.deepEqual(
        [(a as { bytesWritten?: number }).bytesWritten! > 0, (b as { bytesWritten?: number }).bytesWritten],
        [true, 0],
      );
      let copies = 0;
      for await (const item of subject.store.listContent()) if (item.digest === a.digest.slice(7)) copies += 1;
      assert.equal(copies, 1);
    });

    it('fails the consumer artifact_corrupted before its first step when a byte of the object flips, and re-runs only it once fixed', async () => {
      const pipeline = pipelineFrom(`
name: corrupt-${kind}
jobs:
  build:
    steps:
      - name: write
        script: ["mkdir -p bin", "head -c 200000 /dev/urandom > bin/blob", "echo built"]
    artifacts:
      bin: bin
  consume:
    needs: [build]
    steps:
      - name: use
        script: ["test -s bin/blob && echo consumed"]
`);
      // The producer's run finishes; the object is corrupted before the consumer of a re-run downloads it.
      const produced = await run(
        subject,
        runInput({ ...pipeline, jobs: pipeline.jobs.filter((j) => j.name === 'build') }, undefined),
        `corrupt-a-${kind}`,
      );
      const bin = produced.status.jobs.build!.artifacts!.bin!;
      const hex = bin.digest.slice(7);
      const original = await readContent(subject, hex);
      const flipped = Buffer.from(original);
      flipped[1000] = flipped[1000]! ^ 0x01;
      await overwrite(subject, hex, flipped);
      const reuse = { build: produced.status.jobs.build! };
      const failed = await run(subject, runInput(pipeline, reuse, produced.runId), `corrupt-b-${kind}`);
      const consume = failed.status.jobs.consume!;
      assert.equal(failed.status.status, 'failed');
      assert.equal(consume.reason, 'artifact_corrupted');
      assert.match(
        consume.message ?? '',
        new RegExp(
          `artifact 'bin' of job 'build' is corrupted: integrity check failed for sha256:[0-9a-f]{16}… \\(expected sha256:${hex.slice(0, 16)}…\\)`,
        ),
      );
      assert.deepEqual(
        consume.steps.map((s) => s.status),
        ['skipped'],
        'no step ran',
      );
      assert.equal(await output(failed.runId, 'consume'), '');
      // The scrub (`conveyor artifacts verify --all`) names the object as corrupted.
      const scrubbed = await scrubStore(subject.store);
      assert.deepEqual(
        scrubbed.findings.filter((f) => f.digest === hex).map((f) => f.kind),
        ['corrupted'],
      );
      // Repaired, a re-run of only the failed consumer receives the producer's recorded artifact.
      await overwrite(subject, hex, original);
      const rerun = await run(subject, runInput(pipeline, reuse, failed.runId), `corrupt-c-${kind}`);
      assert.equal(rerun.status.status, 'success');
      assert.equal(rerun.status.jobs.build!.reused, true, 'the producer is not executed again');
      assert.match(await output(rerun.runId, 'consume'), /consumed/);
      assert.equal(await output(rerun.runId, 'build'), '');
    });

    it('fails the producer artifact_missing naming a path that matched nothing, and accepts an optional one that matched nothing', async () => {
      const { status } = await run(
        subject,
        runInput(
          pipelineFrom(`
name: missing-${kind}
jobs:
  build:
    steps:
      - name: write
        script: ["mkdir -p dist && echo x > dist/app"]
    artifacts:
      app: dist/app
      coverage: {paths: "coverage/**", optional: true}
      reports: {paths: ["reports/**/*.xml"], when: always}
${dependentOfBuild}`),
        ),
        `missing-${kind}`,
      );
      const build = status.jobs.build!;
      assert.equal(build.status, 'failed');
      assert.equal(build.reason, 'artifact_missing');
      assert.match(build.message ?? '', /'reports\/\*\*\/\*\.xml' matched no file/);
      assert.equal(status.jobs.after!.status, 'skipped');
    });

    it('fails the producer store_full naming the quota and the usage when the upload would reach the critical level, publishing nothing', async (t) => {
      // An empty store of its own with a 100 KiB quota: green at first, and 200 kB more would pass 98 %.
      const empty = await createTestStore(kind);
      t.after(() => empty.dispose());
      const settings = settingsFrom({ artifacts: { quota: '100KiB' } });
      const { runId, status } = await run(
        empty,
        runInput(
          pipelineFrom(`
name: full-${kind}
jobs:
  build:
    steps:
      - name: write
        script: ["mkdir -p big", "head -c 200000 /dev/urandom > big/blob"]
    artifacts:
      big: big
${dependentOfBuild}`),
        ),
        `full-${kind}`,
        settings,
      );
      const build = status.jobs.build!;
      assert.equal(status.status, 'failed');
      assert.equal(build.reason, 'store_full');
      assert.match(
        build.message ?? '',
        /the artifact store is full: 0\.0 % of its 100 KiB quota is used \(0 B\), and 19\d\.\d+ KiB more would reach the critical level \(98 %\)/,
      );
      assert.match(build.message ?? '', /conveyor artifacts gc/);
      assert.equal(status.jobs.after!.status, 'skipped');
      assert.deepEqual(build.artifacts ?? {}, {});
      const records = [];
      for await (const entry of new ArtifactCatalog(empty.store).listRecords({ run: runId })) records.push(entry);
      assert.deepEqual(records, [], 'no record of the refused artifact');
      const contents = [];
      for await (const item of empty.store.listContent()) contents.push(item.digest);
      assert.deepEqual(contents, [], 'no content published');
      assert.equal(await empty.store.sweepTemporaries(new Date(Date.now() + 3600_000)), 0, 'no temporary left');
    });
  });
}
