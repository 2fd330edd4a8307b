/**
 * Deployment incidents (docs/investigations.md, "Deployments"), on the real stack: a canary whose error rate fails
 * its analysis rolls back, and the rollback opens an incident investigated with the deployment causes — the top
 * cause is the error-rate regression, its evidence quoting the metric, its value, the threshold and the window, and
 * the environment change that came with the new version. An alert about the same service, posted afterwards, is
 * framed with that rollout and investigated too.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openIncident } from '../../activities/investigation/open-incident';
import { normaliseAlerts } from '../../investigate/alerts';
import {
  destroyDeployment,
  deploymentLeftovers,
  ensureServiceImage,
  freePort,
  rollout,
  testSpec,
  uniqueService,
  waitForStatus,
} from '../helpers/deployments';
import { incidentStore, investigated } from '../helpers/incidents';
import type { IncidentDocument } from '../../activities/investigation/records';
import { closeTestEnvironment, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

after(closeTestEnvironment);

async function document(key: string | undefined): Promise<string> {
  assert.ok(key, 'the document is named');
  const record = await incidentStore.getRecord<IncidentDocument>(key);
  assert.ok(record, `${key} is in the store`);
  return record.markdown;
}

describe('deployment incidents', () => {
  it('investigates a canary rolled back by its error rate: error_rate_regression, citing metric, value, threshold and window', async () => {
    const { client } = await testEnvironment();
    await Promise.all([ensureServiceImage('v1'), ensureServiceImage('v2')]);
    const taskQueue = uniqueTaskQueue('inv-deploy');
    const service = uniqueService('inv-deploy');
    const routerPort = await freePort();
    const incidents = new Set<string>();
    try {
      await withWorkers(taskQueue, async () => {
        try {
          await rollout(client, taskQueue, testSpec({ service, version: 'v1', routerPort, strategy: 'canary' }));
          await waitForStatus(client, service, 'test', (s) => s.state === 'complete', 'v1 live');
          // Traffic so that the canary's analysis has requests to judge.
          let sending = true;
          const traffic = (async () => {
            const http = await import('node:http');
            while (sending) {
              await new Promise<void>((resolve) => {
                const request = http.get(
                  { host: '127.0.0.1', port: routerPort, path: '/', agent: false },
                  (response) => {
                    response.resume();
                    response.on('end', resolve);
                  },
                );
                request.on('error', () => resolve());
              });
              await new Promise((resolve) => setTimeout(resolve, 5));
            }
          })();
          try {
            await rollout(
              client,
              taskQueue,
              testSpec({
                service,
                version: 'v2',
                routerPort,
                strategy: 'canary',
                env: { ERROR_PERCENT: 40 },
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
              // The entry is recorded first, and names its incident once the incident activity returns.
              (s) => s.history.at(-1)?.version === 'v2' && Boolean(s.history.at(-1)?.incident),
              'the rollback of v2 in the history, with its incident',
            );
            const result = rolledBack.history.at(-1)!;
            assert.equal(result.outcome, 'rolled_back');
            assert.ok(result.incident, 'the rolled-back rollout names its incident');
            incidents.add(result.incident);

            const incident = await investigated(result.incident);
            assert.equal(incident.source, 'conveyor');
            assert.equal(incident.subject.deployment, `deploy-${service}-test`);
            assert.equal(incident.subject.rollout, result.id);
            assert.equal(incident.rootCause?.cause, 'error_rate_regression');
            assert.ok((incident.rootCause?.confidence ?? 0) >= 0.75, `confidence ${incident.rootCause?.confidence}`);
            const top = incident.hypotheses[0]!;
            assert.equal(top.cause, 'error_rate_regression');
            assert.equal(top.verdict, 'pass');
            // The decisive fact: the metric, its value, the threshold; then the window; then what changed.
            assert.match(top.evidence[0]!, /^v2: error_rate = 0\.\d+ against max 0\.05/);
            const value = Number(/error_rate = (0\.\d+)/.exec(top.evidence[0]!)![1]);
            assert.ok(value > 0.05, `measured ${value}`);
            assert.match(top.evidence[1]!, /measurement over 2s \(.+ → .+\): \d+ requests to v2/);
            assert.ok(
              top.evidence.includes('changed: env.ERROR_PERCENT: (none) → "40"'),
              `evidence: ${top.evidence.join(' | ')}`,
            );
            // The other deployment causes were tested and ruled out by their rules.
            const verdicts = Object.fromEntries(incident.hypotheses.map((h) => [h.cause, h.verdict]));
            assert.equal(verdicts.health_check_failed, 'fail');
            assert.equal(verdicts.latency_regression, 'fail');
            assert.deepEqual(
              incident.changes.map((change) => change.path),
              ['version', 'image', 'env.ERROR_PERCENT'],
            );

            const problem = await document(incident.reports.problem);
            assert.match(problem, /Rollout `.+` of `inv-deploy-\w+` `v2` to `test` ended rolled_back\./);
            assert.match(problem, /\| error_rate \| 0\.\d+ \| [^|]+ \| max 0\.05 \| fail \|/);
            assert.match(problem, /window .+ → .+ \(2s\)/);
            const plan = await document(incident.reports.plan);
            assert.match(plan, /### 1\. error_rate_regression/);
            const rca = await document(incident.reports.rca);
            assert.match(rca, /\*\*error_rate_regression\*\*/);
            assert.match(rca, /error_rate = 0\.\d+ against max 0\.05/);

            // An alert about the same service a moment later is framed with that rollout and investigated.
            const [signal] = normaliseAlerts(
              {
                version: '4',
                groupKey: `{}:{alertname="HighErrorRate",service="${service}"}`,
                status: 'firing',
                receiver: 'conveyor',
                groupLabels: { alertname: 'HighErrorRate', service },
                commonLabels: {},
                commonAnnotations: {},
                externalURL: 'http://alertmanager.test',
                alerts: [
                  {
                    status: 'firing',
                    labels: { alertname: 'HighErrorRate', service, environment: 'test', severity: 'critical' },
                    annotations: { summary: `${service} answers 5xx errors` },
                    startsAt: new Date().toISOString(),
                  },
                ],
              },
              new Date().toISOString(),
            );
            const opened = await openIncident(client, { signal: signal!, taskQueue, investigate: true });
            incidents.add(opened.incidentId);
            const alert = await investigated(opened.incidentId);
            assert.equal(alert.subject.alert, 'HighErrorRate');
            assert.equal(alert.rootCause?.cause, 'recent_deployment');
            assert.match(
              alert.hypotheses[0]!.evidence[0]!,
              new RegExp(`^${service} v2 rolled_back [\\d.]+ min before the alert started`),
            );
            assert.ok(
              alert.hypotheses[0]!.evidence.some((line) => line.includes(`incident ${result.incident}`)),
              'the alert cites the rollout incident',
            );
            assert.equal(alert.hypotheses.find((h) => h.cause === 'error_spike')?.verdict, 'pass');
            const alertProblem = await document(alert.reports.problem);
            assert.match(
              alertProblem,
              /## Rollouts of inv-deploy-\w+ near its start\n\n(- .+\n)*- \S+ v2 rolled_back \(deploy-/,
            );
          } finally {
            sending = false;
            await traffic;
          }
        } finally {
          await destroyDeployment(client, service);
        }
      });
    } finally {
      for (const id of incidents) {
        await client.workflow
          .getHandle(id)
          .terminate('test over')
          .catch(() => undefined);
      }
    }
    assert.deepEqual(await deploymentLeftovers(service), []);
  });
});
