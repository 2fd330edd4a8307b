/**
 * Investigations of failures the script did not cause, on real runs (docs/investigations.md, "Causes"):
 * - an input artifact whose stored bytes were flipped after its producer stored it: the consumer job fails
 *   `artifact_corrupted`, and the investigation ranks that first, with the artifact, its producer and the expected
 *   and actual digests from re-hashing the store's bytes;
 * - the artifact store unreachable for a job (a MinIO of the test's own, stopped before the job uploads): the job
 *   fails `infrastructure` once Temporal's retries are spent, and the investigation — which resumes once the store
 *   is back — ranks `infrastructure` first, quoting the store's error.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { pipelineFrom } from '../helpers/artifact-runs';
import { withInvestigations } from '../helpers/incidents';
import { OwnMinio } from '../helpers/own-minio';
import { createTestStore, overwriteContent, readStoredContent, type TestStore } from '../helpers/stores';
import { closeTestEnvironment } from '../helpers/temporal';

const tag = () => randomUUID().slice(0, 8);
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await closeTestEnvironment();
});

describe('investigating store failures', () => {
  it('an input artifact flipped in the store ranks artifact_corrupted first, with both digests', async () => {
    const subject: TestStore = await createTestStore('s3');
    cleanups.push(() => subject.dispose());
    const model = pipelineFrom(`
name: inv-corrupt-${tag()}
jobs:
  build:
    steps:
      - name: package
        script: ["mkdir -p dist", "head -c 200000 /dev/urandom > dist/app.bin"]
    artifacts:
      app: dist
  test:
    needs: [build]
    steps:
      - name: use
        script: ["ls -l dist/app.bin"]
`);
    await withInvestigations(
      'inv-corrupt',
      async (bench) => {
        // The producer runs alone (a green run), then a byte of its stored object flips before a re-run's
        // consumer downloads it.
        const produced = await bench.run({ ...model, jobs: model.jobs.filter((job) => job.name === 'build') });
        assert.equal(produced.status.status, 'success', JSON.stringify(produced.status.jobs));
        const build = produced.status.jobs.build!;
        const hex = build.artifacts!.app!.digest.slice('sha256:'.length);
        const bytes = await readStoredContent(subject, hex);
        bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
        await overwriteContent(subject, hex, bytes);
        const actual = createHash('sha256').update(bytes).digest('hex');

        const { status } = await bench.run(model, {}, { build });
        assert.equal(status.jobs.test?.reason, 'artifact_corrupted', JSON.stringify(status.jobs.test));
        assert.ok(status.incident, 'the failed run opened an incident');
        const incident = await bench.investigated(status.incident);
        const top = incident.hypotheses[0]!;
        assert.equal(incident.rootCause?.cause, 'artifact_corrupted', JSON.stringify(incident.hypotheses));
        assert.deepEqual([top.cause, top.verdict], ['artifact_corrupted', 'pass']);
        assert.match(
          top.evidence[0]!,
          /^job 'test' .*\(artifact_corrupted\): artifact 'app' of job 'build' is corrupted: integrity check failed/,
        );
        const rehashed = `artifact 'app' of job 'build': expected sha256:${hex}, the stored bytes hash to sha256:${actual} (${bytes.length} bytes)`;
        assert.ok(top.evidence.includes(rehashed), top.evidence.join('\n'));
        const rca = await bench.document(incident.reports.rca);
        assert.ok(rca.includes(rehashed), rca);
        assert.match(await bench.document(incident.reports.problem), /^# Problem: /);
      },
      { store: subject.store, scratchDir: subject.spoolDir },
    );
  });

  it('the artifact store unreachable for a job ranks infrastructure first, quoting the store error', async () => {
    const minio = await OwnMinio.started(31);
    cleanups.push(() => minio.dispose());
    const store = await minio.store('incidents');
    const model = pipelineFrom(`
name: inv-store-down-${tag()}
jobs:
  build:
    steps:
      - name: compile
        script: ["echo built > out.txt"]
    artifacts:
      out: out.txt
`);
    await withInvestigations(
      'inv-store-down',
      async (bench) => {
        // The store goes away before the job uploads: every retry of the upload finds it down.
        await minio.stop();
        const { status } = await bench.run(model);
        // Back for the investigation, which keeps its documents in the same store (its activities retry meanwhile).
        await minio.start();
        const build = status.jobs.build!;
        assert.equal(build.reason, 'infrastructure', JSON.stringify(build));
        assert.ok(status.incident, 'the failed run opened an incident');
        const incident = await bench.investigated(status.incident);
        const top = incident.hypotheses[0]!;
        assert.equal(incident.rootCause?.cause, 'infrastructure', JSON.stringify(incident.hypotheses));
        assert.deepEqual([top.cause, top.verdict], ['infrastructure', 'pass']);
        assert.ok(top.evidence[0]!.startsWith(`job 'build'`), top.evidence[0]);
        assert.ok(top.evidence[0]!.includes(build.message!), `the store's error is quoted: ${top.evidence[0]}`);
        assert.match(top.evidence[0]!, new RegExp(`(infrastructure).*127\\.0\\.0\\.1:${minio.port}|ECONNREFUSED`));
        const script = incident.hypotheses.find((hypothesis) => hypothesis.cause === 'script_error');
        assert.notEqual(script?.verdict, 'pass', 'the script is not blamed');
        assert.ok((await bench.document(incident.reports.rca)).includes(build.message!));
      },
      { store, scratchDir: minio.spoolDir },
    );
  });
});
