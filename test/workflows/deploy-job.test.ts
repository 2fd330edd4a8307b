/**
 * The deploy job inside a pipeline run (docs/deployments.md#the-deploy-job), on the real dev server, Docker engine
 * and router: a job with a `deploy:` block instead of steps hands its rollout to the deployment workflow and ends
 * with it — `success` once v1 is live, `failed` with reason `rolled_back` and the evidence when the canary's
 * background analysis fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePipeline } from '../../pipeline/parse-pipeline';
import {
  countVersions,
  deploymentLeftovers,
  destroyDeployment,
  ensureServiceImage,
  freePort,
  instancesByVersion,
  serviceImage,
  steadyTraffic,
  uniqueService,
} from '../helpers/deployments';
import { fastOptions, runResult } from '../helpers/runs';
import { closeTestEnvironment, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

function pipelineSource(service: string, routerPort: number): string {
  return `
name: ship-${service}
jobs:
  build:
    steps: [{name: build, image: conveyor/busybox:latest, script: ["echo building \${VERSION}"]}]
  ship:
    needs: [build]
    deploy:
      service: ${service}
      environment: test
      image: ${serviceImage('${VERSION}')}
      port: 8080
      replicas: 2
      env: {ERROR_PERCENT: "\${ERROR_PERCENT}"}
      router: {port: ${routerPort}}
      health_check:
        http: {path: /cgi-bin/health, expect_body: ok}
        interval: 1s
        timeout: 2s
        success_threshold: 1
        failure_threshold: 2
        start_timeout: 30s
      strategy: canary
      canary:
        analysis: {interval: 2s, min_requests: 10, metrics: [{name: error_rate, max: 0.05}]}
        steps:
          - set_weight: 50
          - pause: 2m
`;
}

describe('the deploy job', () => {
  before(async () => {
    await Promise.all(['v1', 'v3'].map(ensureServiceImage));
  });
  after(closeTestEnvironment);

  it('ends success when the version is live, and failed with rolled_back and the evidence when the canary fails', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('deploy-job');
    const service = uniqueService('deployjob');
    const routerPort = await freePort();
    const source = pipelineSource(service, routerPort);
    const run = async (vars: Record<string, string>) => {
      const parsed = parsePipeline(source, { vars });
      if (!parsed.valid) throw new Error(`the pipeline is invalid: ${JSON.stringify(parsed.errors)}`);
      const handle = await client.workflow.start('pipelineRun', {
        taskQueue,
        workflowId: `run-test-${taskQueue}-${vars.VERSION}`,
        args: [{ pipeline: parsed.pipeline, vars, trigger: 'test', options: fastOptions }],
      });
      return runResult(handle);
    };
    await withWorkers(taskQueue, async () => {
      try {
        // The first rollout of a service simply starts it.
        const first = await run({ VERSION: 'v1', ERROR_PERCENT: '0' });
        assert.equal(first.status, 'success', JSON.stringify(first.jobs));
        assert.equal(first.jobs.ship?.status, 'success');
        assert.deepEqual(first.jobs.ship?.steps, []);
        assert.equal(first.jobs.ship?.deployment?.outcome, 'complete');
        assert.equal(first.jobs.ship?.deployment?.workflowId, `deploy-${service}-test`);
        assert.deepEqual(await countVersions(routerPort, 20), { v1: 20 });

        // v3 answers 500 on 30 % of requests: the background analysis fails and the job fails with the evidence.
        const traffic = steadyTraffic(routerPort, 5);
        const second = await run({ VERSION: 'v3', ERROR_PERCENT: '30' }).finally(() => traffic.stop());
        const ship = second.jobs.ship!;
        assert.equal(second.status, 'failed');
        assert.equal(ship.status, 'failed');
        assert.equal(ship.reason, 'rolled_back');
        assert.match(ship.message ?? '', /^rolled back: background analysis failed: error_rate 0\.\d+ > max 0\.05/);
        assert.match(
          ship.message ?? '',
          /\(evidence: background analysis; error_rate 0\.\d+ \(max 0\.05\): .*window 2 s/,
        );
        assert.equal(ship.deployment?.outcome, 'rolled_back');
        assert.equal(ship.deployment?.evidence?.source, 'background analysis');
        assert.equal(second.jobs.build?.status, 'success');
        assert.deepEqual(await countVersions(routerPort, 20), { v1: 20 });
        assert.deepEqual(Object.keys(await instancesByVersion(service)), ['v1']);
      } finally {
        await destroyDeployment(client, service);
      }
    });
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
