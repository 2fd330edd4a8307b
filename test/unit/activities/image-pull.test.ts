/**
 * Pulling step images (docs/runs.md, "Images and registries"): what a registry's answer means, which credentials an
 * image gets, and how `pull_policy` reaches the step.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPullError } from '../../../activities/docker-image-pull';
import { parseConfigFile } from '../../../config/config-file';
import { registryAuthFor, registryOf } from '../../../config/registries';
import { parsePipeline } from '../../../pipeline/parse-pipeline';

describe('image pulls', () => {
  it('tells a missing tag or repository from refused credentials and from a registry that fails for now', () => {
    // The engine's words for each case, as Docker 20.10 passes them on from a Distribution registry.
    const words: Array<[string, number | undefined, string]> = [
      ['manifest for 127.0.0.1:5000/a/b:nope not found: manifest unknown: manifest unknown', 404, 'not_found'],
      ['Head "http://127.0.0.1:5000/v2/a/b/manifests/v1": no basic auth credentials', 500, 'auth'],
      ['unauthorized: authentication required', 500, 'auth'],
      ["pull access denied for a/b, repository does not exist or may require 'docker login'", 404, 'not_found'],
      ['denied: requested access to the resource is denied', 500, 'auth'],
      ['Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused', 500, 'transient'],
      ['received unexpected HTTP status: 503 Service Unavailable', 500, 'transient'],
      ['unexpected EOF', undefined, 'transient'],
    ];
    for (const [message, status, kind] of words) assert.equal(classifyPullError(message, status), kind, message);
  });

  it('finds the registry of an image reference the way Docker does', () => {
    assert.equal(registryOf('busybox'), 'docker.io');
    assert.equal(registryOf('conveyor/node:18'), 'docker.io');
    assert.equal(registryOf('127.0.0.1:5000/team/app:1'), '127.0.0.1:5000');
    assert.equal(registryOf('registry.example.com/app@sha256:abc'), 'registry.example.com');
    assert.equal(registryOf('localhost/app'), 'localhost');
  });

  it('gives an image the credentials of its registry from the registries: section, the password from the environment', () => {
    const { registries } = parseConfigFile(
      'registries:\n  - host: 127.0.0.1:5000\n    username: ci\n    password_env: REGISTRY_PASSWORD\n',
      'conveyor.config.yml',
    );
    assert.deepEqual(registryAuthFor(registries, { REGISTRY_PASSWORD: 'pw' }, '127.0.0.1:5000/app:1'), {
      username: 'ci',
      password: 'pw',
      serveraddress: '127.0.0.1:5000',
    });
    assert.equal(registryAuthFor(registries, {}, 'other.example.com/app:1'), undefined);
    assert.throws(
      () => parseConfigFile('registries:\n  - host: https://x\n    username: ci\n', 'conveyor.config.yml'),
      /conveyor\.config\.yml:2:.*expected a registry host/,
    );
  });

  it('reads pull_policy on a job and on a step (the step wins); the default is not written into the model', () => {
    const result = parsePipeline(
      [
        'name: p',
        'jobs:',
        '  build:',
        '    image: conveyor/busybox:latest',
        '    pull_policy: always',
        '    steps:',
        '      - { name: a, script: "true" }',
        '      - { name: b, script: "true", pull_policy: never }',
        '      - { name: c, script: "true", pull_policy: if_not_present }',
        '',
      ].join('\n'),
    );
    assert.ok(result.valid, JSON.stringify(!result.valid && result.errors));
    assert.deepEqual(
      result.pipeline.jobs[0]!.steps.map((step) => step.pullPolicy),
      ['always', 'never', undefined],
    );
    const wrong = parsePipeline(
      'name: p\njobs:\n  build:\n    pull_policy: sometimes\n    steps: [{ name: a, script: "true" }]\n',
    );
    assert.equal(wrong.valid, false);
  });
});
