/**
 * A deploy job verifies its input artifacts before the rollout starts (ART-047, docs/artifacts.md#deployments), on
 * the real dev server, Docker engine, router and an fs store: with intact inputs the version goes live; with a byte
 * of the producer's object flipped the job fails `artifact_corrupted` naming the artifact, its producer and both
 * digests, and no replica changes (the live version keeps the same containers, and still answers every request).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PipelineModel } from '../../pipeline/model';
import { parsePipeline } from '../../pipeline/parse-pipeline';
import type { PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { finalStatus, runInput } from '../helpers/artifact-runs';
import {
  countVersions,
  deploymentLeftovers,
  destroyDeployment,
  ensureServiceImage,
  freePort,
  instancesByVersion,
  serviceImage,
  uniqueService,
} from '../helpers/deployments';
import { createTestStore, overwriteContent, readStoredContent, type TestStore } from '../helpers/stores';
import { closeTestEnvironment, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

function pipelineSource(service: string, routerPort: number, version: string): string {
  return `
name: verified-${service}
jobs:
  build:
    steps:
      - name: package
        image: conveyor/busybox:latest
        script: ["mkdir -p dist", "head -c 300000 /dev/urandom > dist/app.bin", "echo packaged ${version}"]
    artifacts:
      app: dist
  ship:
    needs: [build]
    deploy:
      service: ${service}
      environment: test
      image: ${serviceImage(version)}
      port: 8080
      replicas: 2
      router: {port: ${routerPort}}
      health_check:
        http: {path: /cgi-bin/health, expect_body: ok}
        interval: 1s
        timeout: 2s
        success_threshold: 1
        failure_threshold: 2
        start_timeout: 30s
`;
}

function parse(source: string): PipelineModel {
  const parsed = parsePipeline(source);
  if (!parsed.valid) throw new Error(`the pipeline is invalid: ${JSON.stringify(parsed.errors)}`);
  return parsed.pipeline;
}

describe('a deploy job verifies its input artifacts', () => {
  let subject: TestStore;
  before(async () => {
    await ensureServiceImage('v1');
    subject = await createTestStore('fs');
  });
  after(async () => {
    await subject?.dispose();
    await closeTestEnvironment();
  });

  it('rolls out with intact inputs; a corrupted input fails artifact_corrupted before any replica changes', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('artifacts-deploy');
    const service = uniqueService('verified');
    const routerPort = await freePort();
    let runs = 0;
    const run = async (pipeline: PipelineModel, reuse?: PipelineRunStatus['jobs']): Promise<PipelineRunStatus> => {
      runs += 1;
      const handle = await client.workflow.start('pipelineRun', {
        taskQueue,
        workflowId: `run-test-${taskQueue}-${runs}`,
        args: [runInput(pipeline, reuse)],
      });
      return finalStatus(handle);
    };
    await withWorkers(
      taskQueue,
      async () => {
        try {
          // Intact: the input is verified, then v1 goes live.
          const first = await run(parse(pipelineSource(service, routerPort, 'v1')));
          assert.equal(first.status, 'success', JSON.stringify(first.jobs));
          assert.equal(first.jobs.ship?.deployment?.outcome, 'complete');
          const live = await instancesByVersion(service);
          assert.deepEqual(Object.keys(live), ['v1']);
          assert.equal(live.v1?.length, 2);

          // The producer of v2 runs alone; a byte of its object flips before the deploy job of a re-run uses it.
          const v2 = parse(pipelineSource(service, routerPort, 'v2'));
          const produced = await run({ ...v2, jobs: v2.jobs.filter((job) => job.name === 'build') });
          assert.equal(produced.status, 'success', JSON.stringify(produced.jobs));
          const hex = produced.jobs.build!.artifacts!.app!.digest.slice(7);
          const bytes = await readStoredContent(subject, hex);
          bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
          await overwriteContent(subject, hex, bytes);

          const failed = await run(v2, { build: produced.jobs.build! });
          const ship = failed.jobs.ship!;
          assert.equal(failed.status, 'failed');
          assert.equal(failed.jobs.build?.reused, true);
          assert.equal(ship.status, 'failed');
          assert.equal(ship.reason, 'artifact_corrupted');
          assert.match(
            ship.message ?? '',
            new RegExp(
              `^artifact 'app' of job 'build' is corrupted: integrity check failed for sha256:[0-9a-f]{16}… \\(expected sha256:${hex.slice(0, 16)}…\\)`,
            ),
          );
          assert.equal(ship.deployment?.outcome, undefined, 'no rollout was requested');
          assert.equal(ship.deployment?.position, undefined, 'the deployment never accepted a request');
          assert.deepEqual(await instancesByVersion(service), live, 'the same v1 containers, and no v2 one');
          assert.deepEqual(await countVersions(routerPort, 10), { v1: 10 });
        } finally {
          await destroyDeployment(client, service);
        }
      },
      { store: subject.store, scratchDir: subject.spoolDir },
    );
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
