/**
 * The `deploy:` block in a pipeline (docs/deployments.md#the-deploy-job): checked by the language module like every
 * other field — line and column, stable codes, did-you-mean — and turned into the job's normalised deploy spec.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseImagesOf } from '../../../activities/image-build';
import { parsePipeline } from '../../../pipeline/parse-pipeline';

const valid = `name: ship
jobs:
  build:
    steps: [{name: build, script: ["make"]}]
  ship:
    needs: [build]
    deploy:
      service: web
      image: conveyor/web:\${VERSION}
      port: 8080
      replicas: 2
      router: {port: 18080}
      strategy: canary
      canary:
        steps: [{set_weight: 20}, {pause: 30s}]
`;

function errors(source: string): string[] {
  const parsed = parsePipeline(source, { vars: { VERSION: '1.4.2' } });
  return parsed.valid ? [] : parsed.errors.map((e) => `${e.line}:${e.column} ${e.code} ${e.message}`);
}

describe('the deploy job in the pipeline language', () => {
  it('turns a deploy block into the job’s deploy spec, with variables resolved and no steps', () => {
    const parsed = parsePipeline(valid, { vars: { VERSION: '1.4.2' } });
    assert.ok(parsed.valid);
    const ship = parsed.pipeline.jobs.find((job) => job.name === 'ship')!;
    assert.deepEqual(ship.steps, []);
    assert.deepEqual(ship.dependsOn, ['build']);
    assert.equal(ship.deploy?.service, 'web');
    assert.equal(ship.deploy?.environment, 'production');
    assert.equal(ship.deploy?.image, 'conveyor/web:1.4.2');
    assert.equal(ship.deploy?.version, '1.4.2');
    assert.deepEqual(
      ship.deploy?.canary?.steps.map((step) => step.kind),
      ['set_weight', 'pause'],
    );
  });

  it('reports mistakes inside the block with line, column, code and did-you-mean', () => {
    const source = valid
      .replace('service: web', 'service: Web')
      .replace('router: {port: 18080}', 'router: {kind: ngnix, port: 18080}')
      .replace('{set_weight: 20}', '{set_wieght: 20}');
    assert.deepEqual(errors(source), [
      "8:16 invalid_name jobs.ship.deploy.service: 'Web' is not a valid service name",
      "12:22 schema jobs.ship.deploy.router.kind: the string 'ngnix' is not allowed (did you mean 'nginx'?)",
      '15:17 schema jobs.ship.deploy.canary.steps[0]: the step is empty',
      "15:18 unknown_key jobs.ship.deploy.canary.steps[0].set_wieght: unknown key 'set_wieght' (did you mean 'set_weight'?)",
    ]);
  });

  it('refuses a job with both steps and deploy, and one with neither', () => {
    const both = valid.replace(
      '    needs: [build]\n',
      '    needs: [build]\n    steps: [{name: x, script: ["true"]}]\n',
    );
    assert.deepEqual(errors(both), ['8:5 schema jobs.ship.deploy: a job has steps: or deploy:, not both']);
    const neither = valid.replace('    steps: [{name: build, script: ["make"]}]\n', '    image: alpine:3\n');
    assert.deepEqual(errors(neither), ["4:5 schema jobs.build.steps: missing required field 'steps'"]);
  });

  const building = `name: ship
jobs:
  build:
    steps: [{name: build, script: ["make"]}]
    artifacts: {site: [Dockerfile, www]}
  docs:
    steps: [{name: docs, script: ["make docs"]}]
    artifacts: {manual: docs}
  ship:
    needs: [build, docs]
    deploy:
      service: web
      build_image: {context: site, tag: conveyor/web:2}
      port: 8080
      router: {port: 18080}
`;

  it('takes build_image from an artifact of a needed job: the tag names the version, the Dockerfile defaults', () => {
    const parsed = parsePipeline(building);
    assert.ok(parsed.valid, JSON.stringify(parsed));
    const ship = parsed.pipeline.jobs.find((job) => job.name === 'ship')!;
    assert.deepEqual(ship.deploy?.buildImage, { context: 'site', dockerfile: 'Dockerfile', tag: 'conveyor/web:2' });
    assert.equal(ship.deploy?.version, '2');
  });

  it('refuses a build context the job does not receive, and a Dockerfile path outside the artifact', () => {
    assert.deepEqual(errors(building.replace('context: site', 'context: stie')), [
      "13:30 unknown_artifact jobs.ship.deploy.build_image.context: artifact 'stie' is not one this job receives (did you mean 'site'?)",
    ]);
    const notFrom = parsePipeline(
      building.replace('    needs: [build, docs]\n', '    needs: [build, docs]\n    artifacts_from: [docs]\n'),
    );
    assert.equal(notFrom.valid, false);
    assert.equal(notFrom.errors[0]?.code, 'unknown_artifact');
    assert.equal(
      notFrom.errors[0]?.hint,
      "'site' is stored by build: add 'build' to this job's needs and artifacts_from",
    );
    assert.deepEqual(
      errors(building.replace('tag: conveyor/web:2', 'tag: conveyor/web:2, dockerfile: /etc/Dockerfile')),
      [
        "13:69 unsafe_path jobs.ship.deploy.build_image.dockerfile: dockerfile: '/etc/Dockerfile' is absolute; artifact paths are relative to the workspace",
      ],
    );
  });

  it('finds the base images a build needs on the engine: not scratch, earlier stages or build arguments', () => {
    const dockerfile = [
      'ARG BASE=conveyor/node:18',
      'FROM --platform=linux/amd64 conveyor/node:18 AS deps',
      'RUN npm ci',
      'FROM $BASE',
      'FROM scratch AS empty',
      'FROM \\',
      '  conveyor/busybox:latest',
      'COPY --from=deps /app /app',
      'from deps',
    ].join('\n');
    assert.deepEqual(baseImagesOf(dockerfile), ['conveyor/node:18', 'conveyor/busybox:latest']);
  });
});
