/**
 * Canary rollouts on the real dev server, Docker engine and both routers: traffic split by weight, a durable pause,
 * approvals through the CLI and `temporal workflow signal`, promotion, with no failed request of a steady stream
 * through every weight change (each an nginx reload on the nginx router); and a failing background analysis that sends
 * all traffic back to stable with its evidence.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findTool } from '../../client/dev/processes';
import { deploymentWorkflowId } from '../../deploy/names';
import type { RouterKind } from '../../deploy/spec';
import { conveyor, runCommand } from '../helpers/cli';
import {
  countVersions,
  deploymentLeftovers,
  destroyDeployment,
  ensureServiceImage,
  freePort,
  instancesByVersion,
  rollout,
  steadyTraffic,
  testSpec,
  uniqueService,
  waitForStatus,
} from '../helpers/deployments';
import { closeTestEnvironment, config, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

describe('canary rollouts', () => {
  before(async () => {
    await Promise.all(['v1', 'v2', 'v3'].map(ensureServiceImage));
  });
  after(closeTestEnvironment);

  for (const router of ['builtin', 'nginx'] as RouterKind[]) {
    it(`splits traffic by weight, pauses durably, takes approvals from the CLI and a signal, and promotes (${router})`, async () => {
      const { client } = await testEnvironment();
      const taskQueue = uniqueTaskQueue('canary');
      const service = uniqueService(`canary-${router}`);
      const routerPort = await freePort();
      const spec = (version: string, extra: Record<string, unknown> = {}) =>
        testSpec({
          service,
          version,
          routerPort,
          replicas: 2,
          strategy: 'canary',
          router: { port: routerPort, kind: router },
          ...extra,
        });
      let traffic: ReturnType<typeof steadyTraffic> | undefined;
      await withWorkers(taskQueue, async () => {
        try {
          await rollout(client, taskQueue, spec('v1'));
          await waitForStatus(client, service, 'test', (s) => s.state === 'complete', 'v1 live');
          assert.deepEqual(await countVersions(routerPort, 20), { v1: 20 });

          // A steady stream through every weight change (an nginx reload each) and the final switch.
          traffic = steadyTraffic(routerPort, 10);
          await rollout(
            client,
            taskQueue,
            spec('v2', {
              canary: {
                steps: [
                  { set_weight: 20 },
                  { pause: 3 },
                  { approval: { name: 'prod', approvers: ['alice', 'bob'], required: 2 } },
                  { set_weight: 60 },
                  { pause: 1 },
                ],
              },
            }),
          );
          const paused = await waitForStatus(client, service, 'test', (s) => s.step?.kind === 'pause', 'the pause');
          const until = Date.parse(paused.step!.until!);
          const gated = await waitForStatus(
            client,
            service,
            'test',
            (s) => s.state === 'awaiting_approval',
            'the gate',
          );
          assert.ok(Date.now() >= until, 'the pause ended at its time, not before');
          assert.equal(gated.weights.canary, 20);

          const counts = await countVersions(routerPort, 500);
          const share = ((counts.v2 ?? 0) / 500) * 100;
          assert.equal((counts.v1 ?? 0) + (counts.v2 ?? 0), 500, JSON.stringify(counts));
          assert.ok(share >= 15 && share <= 25, `canary share ${share} % (${JSON.stringify(counts)})`);

          const byCli = await conveyor([
            'deploy',
            'approve',
            service,
            '--env',
            'test',
            '--as',
            'alice',
            '--comment',
            'looks good',
          ]);
          assert.equal(byCli.code, 0, byCli.stderr);
          assert.match(byCli.stdout, /approved gate 'prod' \(1 of 2\)/);
          const temporal = findTool('temporal', config.cacheDir);
          const bySignal = await runCommand(temporal, [
            'workflow',
            'signal',
            '--workflow-id',
            deploymentWorkflowId(service, 'test'),
            '--name',
            'approve',
            '--input',
            '{"user": "bob", "comment": "ship it"}',
            '--address',
            config.temporal.address,
          ]);
          assert.equal(bySignal.code, 0, bySignal.stderr);

          const done = await waitForStatus(
            client,
            service,
            'test',
            (s) => s.state === 'complete' && s.stable?.version === 'v2',
            'v2 live',
          );
          assert.deepEqual(
            done.approvals.map((d) => [d.user, d.decision, d.channel, d.comment]),
            [
              ['alice', 'approved', 'cli', 'looks good'],
              ['bob', 'approved', 'temporal-ui', 'ship it'],
            ],
          );
          const answers = await traffic.stop();
          assert.ok(answers.length > 50, `only ${answers.length} requests in the stream`);
          assert.deepEqual(
            answers.filter((a) => a.error || a.status !== 200),
            [],
            `no request of the stream failed during the weight changes and ${router === 'nginx' ? 'nginx reloads' : 'the switch'}`,
          );
          assert.deepEqual(await countVersions(routerPort, 40), { v2: 40 });
          assert.deepEqual(Object.keys(await instancesByVersion(service)), ['v2']);
          assert.deepEqual(
            done.history.map((entry) => [entry.version, entry.outcome]),
            [
              ['v1', 'complete'],
              ['v2', 'complete'],
            ],
          );
        } finally {
          await traffic?.stop();
          await destroyDeployment(client, service);
        }
      });
      assert.deepEqual(await deploymentLeftovers(service), []);
    });
  }

  it('rolls back a canary whose error rate fails the background analysis, with the evidence, and drops no request', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('canary-fail');
    const service = uniqueService('canary-fail');
    const routerPort = await freePort();
    await withWorkers(taskQueue, async () => {
      try {
        await rollout(
          client,
          taskQueue,
          testSpec({ service, version: 'v1', routerPort, replicas: 2, strategy: 'canary' }),
        );
        await waitForStatus(client, service, 'test', (s) => s.state === 'complete', 'v1 live');
        const traffic = steadyTraffic(routerPort, 5);
        await rollout(
          client,
          taskQueue,
          testSpec({
            service,
            version: 'v3',
            routerPort,
            replicas: 2,
            strategy: 'canary',
            env: { ERROR_PERCENT: 30 },
            canary: {
              analysis: { interval: 2, min_requests: 10, metrics: [{ name: 'error_rate', max: 0.05 }] },
              steps: [{ set_weight: 50 }, { pause: 120 }],
            },
          }),
        );
        const rolledBack = await waitForStatus(
          client,
          service,
          'test',
          (s) => s.state === 'rolled_back',
          'the rollback',
        );
        const answers = await traffic.stop();
        const evidence = rolledBack.lastRollback?.evidence;
        assert.equal(evidence?.source, 'background analysis');
        const failing = evidence?.measurement?.metrics.find((metric) => metric.verdict === 'fail');
        assert.equal(failing?.name, 'error_rate');
        assert.equal(failing?.condition, 'max 0.05');
        assert.ok((failing?.value ?? 0) > 0.05);
        assert.ok(evidence?.measurement?.window.seconds === 2 && evidence.measurement.requests.canary >= 10);
        assert.match(rolledBack.lastRollback!.reason, /background analysis failed: error_rate 0\.\d+ > max 0\.05/);
        assert.deepEqual(rolledBack.history.at(-1)?.outcome, 'rolled_back');

        // Every answer came from the service (no router error, no refused connection): nothing reached a removed
        // container; after the rollback only v1 answers.
        assert.deepEqual(
          answers.filter((a) => a.error || (a.status >= 500 && !a.version)),
          [],
        );
        assert.ok(
          answers.some((a) => a.version === 'v3'),
          'the canary got traffic before the rollback',
        );
        assert.deepEqual(await countVersions(routerPort, 40), { v1: 40 });
        assert.deepEqual(Object.keys(await instancesByVersion(service)), ['v1']);
      } finally {
        await destroyDeployment(client, service);
      }
    });
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
