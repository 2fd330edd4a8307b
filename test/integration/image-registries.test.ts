/**
 * Step images from a real registry (docs/runs.md, "Images and registries"): Debian's `docker-registry` on
 * 127.0.0.1 with htpasswd authentication, the real Docker engine pulling from it, and real workers whose
 * `registries:` settings hold the credentials. The password never reaches the run's Temporal history or its logs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { RegistriesSettings } from '../../config/registries';
import { job, pipeline, step } from '../helpers/models';
import { freePort } from '../helpers/ports';
import { startTestRegistry, type TestRegistry } from '../helpers/registry';
import { runPipeline } from '../helpers/runs';
import { closeTestEnvironment, docker, leftoversOf, logs, testEnvironment } from '../helpers/temporal';
import type { StepModel } from '../../pipeline/model';

const password = `pw-${randomUUID()}`;
const repository = `conveyor-test/busybox-${randomUUID().slice(0, 8)}`;
let registry: TestRegistry;
/** Images this test made the engine hold (pulled or committed), removed at the end whatever happened. */
const images = new Set<string>();

before(async () => {
  registry = await startTestRegistry('ci', password);
});

after(async () => {
  for (const image of images)
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  await registry?.stop();
  await closeTestEnvironment();
});

const credentials =
  (pass: string): (() => RegistriesSettings) =>
  () => [{ host: registry.host, username: 'ci', password: pass }];

/** Runs a one-step pipeline on `image`; returns the run id, the job's state and every log line. */
async function runOn(
  image: string,
  registries: () => RegistriesSettings | undefined,
  overrides: Partial<StepModel> = {},
) {
  images.add(image);
  const { runId, status } = await runPipeline(
    pipeline('registry', [job('only', [step('run', ['echo "marker=$${MARKER:-}"'], { image, ...overrides })])]),
    { registries },
  );
  const { records } = await logs.read(runId);
  assert.deepEqual(await leftoversOf(runId), []);
  return { runId, job: status.jobs.only!, lines: records.map((record) => record.line) };
}

/** The run's Temporal history as the server stores it (protobuf bytes, payloads as written). */
async function historyBytes(runId: string): Promise<Buffer> {
  const env = await testEnvironment();
  const history = await env.client.workflow.getHandle(runId).fetchHistory();
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
}

const isOnHost = (image: string) =>
  docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      () => false,
    );

describe('step images from a registry with credentials', () => {
  it('pulls a missing image on first use with the worker’s credentials, which stay out of history and logs', async () => {
    const image = await registry.push('conveyor/busybox:latest', repository, 'v1');
    assert.equal(await isOnHost(image), false, 'the pushed image is no longer on the host');
    const { runId, job: only, lines } = await runOn(image, credentials(password));
    assert.equal(only.status, 'success', only.message);
    assert.deepEqual(lines, ['marker=']);
    assert.equal(await isOnHost(image), true, 'the image was pulled');
    const history = await historyBytes(runId);
    assert.ok(history.includes(image), 'the history names the image');
    assert.equal(history.includes(password), false, 'the password is not in the run’s history');
    assert.equal(lines.join('\n').includes(password), false, 'the password is not in the logs');
  });

  it('fails with a clear configuration error when credentials are missing or wrong', async () => {
    const image = await registry.push('conveyor/busybox:latest', repository, 'auth');
    const missing = await runOn(image, () => undefined);
    assert.equal(missing.job.status, 'failed');
    assert.equal(missing.job.reason, 'configuration');
    assert.match(missing.job.message ?? '', new RegExp(`add credentials for ${registry.host} under registries:`));
    const wrong = await runOn(image, credentials('not-the-password'));
    assert.equal(wrong.job.reason, 'configuration');
    assert.match(wrong.job.message ?? '', new RegExp(`check the credentials for ${registry.host} under registries:`));
    assert.equal(await isOnHost(image), false);
    const history = await historyBytes(wrong.runId);
    assert.equal(history.includes('not-the-password'), false, 'a wrong password is not in the history either');
  });

  it('reports image_not_found only when the registry says the tag does not exist', async () => {
    const missingTag = await runOn(`${registry.host}/${repository}:no-such-tag`, credentials(password));
    assert.equal(missingTag.job.reason, 'image_not_found');
    assert.match(missingTag.job.message ?? '', /was not found: registry .* says .*manifest unknown/);
    // A registry that does not answer is not a missing image: three attempts with backoff, then infrastructure.
    const down = await runOn(`127.0.0.1:${await freePort()}/${repository}:v1`, () => undefined);
    assert.equal(down.job.reason, 'infrastructure');
    assert.match(down.job.message ?? '', /failed 3 times: .*connection refused/);
  });

  it('pull_policy never fails at once on a missing image; always pulls the tag again', async () => {
    const never = await runOn(
      await registry.push('conveyor/busybox:latest', repository, 'never'),
      credentials(password),
      {
        pullPolicy: 'never',
      },
    );
    assert.equal(never.job.reason, 'image_not_found');
    assert.match(never.job.message ?? '', /pull_policy is never/);

    const image = await registry.push('conveyor/busybox:latest', repository, 'moving');
    assert.deepEqual((await runOn(image, credentials(password))).lines, ['marker=']);
    // The tag moves, in the registry, to an image that sets MARKER=v2; the host keeps its older copy of the tag.
    const base = await docker.createContainer({ Image: 'conveyor/busybox:latest', Cmd: ['true'] });
    const committed = `conveyor-test/marker-${randomUUID().slice(0, 8)}`;
    images.add(`${committed}:v2`);
    try {
      await base.commit({ repo: committed, tag: 'v2', changes: 'ENV MARKER=v2' });
    } finally {
      await base.remove({ force: true });
    }
    assert.ok((await docker.getImage(`${committed}:v2`).inspect()).Config.Env.includes('MARKER=v2'));
    await registry.push(`${committed}:v2`, repository, 'moving');
    await docker
      .getImage('conveyor/busybox:latest')
      .tag({ repo: image.slice(0, image.lastIndexOf(':')), tag: 'moving' });
    assert.deepEqual(
      (await runOn(image, credentials(password))).lines,
      ['marker='],
      'if_not_present keeps the local copy',
    );
    const always = await runOn(image, credentials(password), { pullPolicy: 'always' });
    assert.deepEqual(always.lines, ['marker=v2'], 'always pulled the moved tag');
  });
});
