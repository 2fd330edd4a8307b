/**
 * `build_image:` of a deploy job (docs/deployments.md#building-the-image), on the real dev server, Docker engine,
 * builtin router and an fs store: a job stores a build context as an artifact, the deploy job builds an image FROM
 * conveyor/busybox from it (no network, nothing pulled) and rolls out exactly that image — the router answers with
 * the built content, and the image id is in the run's status and the deployment's. A failing instruction fails the
 * job `image_build_failed` with the build's last lines, a base image not on the engine and a missing Dockerfile say
 * how to fix them, and none of these failures changes the live version.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchDeploymentStatus } from '../../client/deployments';
import type { PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { finalStatus, pipelineFrom, runInput } from '../helpers/artifact-runs';
import { deploymentLeftovers, destroyDeployment, freePort, get, instancesByVersion } from '../helpers/deployments';
import { createTestStore, type TestStore } from '../helpers/stores';
import { closeTestEnvironment, docker, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

/** A pipeline whose `package` job writes a Dockerfile (the `from` line and `extra` instructions) and a site. */
function pipelineSource(options: {
  service: string;
  routerPort: number;
  tag: string;
  marker: string;
  from?: string;
  extra?: string;
  dockerfile?: string;
}): string {
  return `
name: built-${options.service}
jobs:
  package:
    steps:
      - name: context
        image: conveyor/busybox:latest
        script:
          - |
            mkdir -p www
            echo ${options.marker} > www/index.html
            echo ok > www/health
            cat > Dockerfile <<'END'
            FROM ${options.from ?? 'conveyor/busybox:latest'}
            COPY www /www
            ${options.extra ?? ''}
            USER 1000:1000
            CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
            END
    artifacts:
      site: [Dockerfile, www]
  ship:
    needs: [package]
    deploy:
      service: ${options.service}
      environment: test
      port: 8080
      build_image: {context: site, tag: ${options.tag}${options.dockerfile ? `, dockerfile: ${options.dockerfile}` : ''}}
      router: {port: ${options.routerPort}}
      health_check:
        http: {path: /health, expect_body: ok}
        interval: 1s
        timeout: 2s
        success_threshold: 1
        failure_threshold: 2
        start_timeout: 30s
`;
}

async function removeImage(tag: string): Promise<void> {
  await docker
    .getImage(tag)
    .remove({ force: true })
    .catch(() => undefined);
}

describe('a deploy job builds the image it deploys', () => {
  let subject: TestStore;
  const tags: string[] = [];
  before(async () => {
    subject = await createTestStore('fs');
  });
  after(async () => {
    for (const tag of tags) await removeImage(tag);
    await subject?.dispose();
    await closeTestEnvironment();
  });

  it('builds from an artifact with no network, deploys that image by id, and fails clearly when the build cannot', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('build-image');
    const service = `built-${Math.random().toString(36).slice(2, 8)}`;
    const routerPort = await freePort();
    const tag = (version: string) => `conveyor-test/${service}:${version}`;
    tags.push(tag('v1'), tag('v2'), tag('v3'), tag('v4'));
    let runs = 0;
    const run = async (source: string): Promise<PipelineRunStatus> => {
      runs += 1;
      const handle = await client.workflow.start('pipelineRun', {
        taskQueue,
        workflowId: `run-test-${taskQueue}-${runs}`,
        args: [runInput(pipelineFrom(source))],
      });
      return finalStatus(handle);
    };
    await withWorkers(
      taskQueue,
      async () => {
        try {
          // Built and live: the router answers with what the package job wrote; the run and the deployment
          // record the image id, which is the id of the tag the build produced.
          const marker = `built-content-${service}`;
          // The RUN records the network interfaces the build sees: with networkmode none, only the loopback.
          const extra = 'RUN ls /sys/class/net > /www/interfaces.txt';
          const first = await run(pipelineSource({ service, routerPort, tag: tag('v1'), marker, extra }));
          assert.equal(first.status, 'success', JSON.stringify(first.jobs));
          const built = first.jobs.ship?.deployment?.image;
          assert.ok(built, 'the run records the built image');
          assert.match(built.id, /^sha256:[0-9a-f]{64}$/);
          assert.equal(built.tag, tag('v1'));
          assert.equal(built.context.name, 'site');
          assert.equal(built.context.digest, first.jobs.package?.artifacts?.site?.digest);
          const inspected = await docker.getImage(tag('v1')).inspect();
          assert.equal(inspected.Id, built.id);
          assert.equal(inspected.Config.Labels?.['conveyor.build.context'], built.context.digest);
          const answer = await get(routerPort);
          assert.equal(answer.status, 200, JSON.stringify(answer));
          assert.equal(answer.body.trim(), marker);
          const interfaces = await get(routerPort, {}, '/interfaces.txt');
          assert.equal(interfaces.body.trim(), 'lo', 'a RUN instruction has no network but the loopback');
          const status = await fetchDeploymentStatus(client, service, 'test');
          assert.equal(status.state, 'complete');
          assert.equal(status.stable?.image, built.id, 'the deployment runs exactly the built image');
          assert.equal(status.stable?.version, 'v1');
          const live = await instancesByVersion(service);
          assert.deepEqual(Object.keys(live), ['v1']);

          // A failing instruction fails the job with the build's error and its last lines; nothing is rolled out.
          const failing = await run(
            pipelineSource({
              service,
              routerPort,
              tag: tag('v2'),
              marker: 'never-live',
              extra: 'RUN echo broken-step-output && exit 7',
            }),
          );
          const ship = failing.jobs.ship!;
          assert.equal(failing.status, 'failed');
          assert.equal(ship.status, 'failed');
          assert.equal(ship.reason, 'image_build_failed', ship.message);
          assert.match(ship.message ?? '', /^build_image of job 'ship' failed: .*returned a non-zero code: 7/);
          assert.match(ship.message ?? '', /last lines of the build:\n[\s\S]*broken-step-output/);
          assert.equal(ship.deployment?.outcome, undefined, 'no rollout was requested');
          await assert.rejects(docker.getImage(tag('v2')).inspect(), 'the failed build tagged nothing');

          // A base image that is not on the engine is never pulled: the job says which and how to fix it.
          const absent = `conveyor-test/absent-${service}:none`;
          const noBase = await run(
            pipelineSource({ service, routerPort, tag: tag('v3'), marker: 'never-live', from: absent }),
          );
          assert.equal(noBase.jobs.ship?.reason, 'image_build_failed');
          assert.match(
            noBase.jobs.ship?.message ?? '',
            new RegExp(
              `base image '${absent}' \\(FROM in Dockerfile\\) is not on this Docker engine; builds have no network and pull nothing`,
            ),
          );

          // A Dockerfile the artifact does not hold: the job names the path and what the artifact holds.
          const noDockerfile = await run(
            pipelineSource({ service, routerPort, tag: tag('v4'), marker: 'never-live', dockerfile: 'web.Dockerfile' }),
          );
          assert.equal(noDockerfile.jobs.ship?.reason, 'image_build_failed');
          assert.match(
            noDockerfile.jobs.ship?.message ?? '',
            /artifact 'site' of job 'package' has no Dockerfile at 'web.Dockerfile' \(it holds Dockerfile, www\/health, www\/index.html\)/,
          );

          // None of the failures touched the live version.
          assert.deepEqual(await instancesByVersion(service), live);
          assert.equal((await get(routerPort)).body.trim(), marker);
        } finally {
          await destroyDeployment(client, service);
        }
      },
      { store: subject.store, scratchDir: subject.spoolDir },
    );
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
