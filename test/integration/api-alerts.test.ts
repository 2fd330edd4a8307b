/**
 * `POST /api/alerts` on the real server, Temporal dev server and workers (docs/investigations.md): twenty
 * Alertmanager alerts in three groups are three incidents; the auto-investigate rule in conveyor.config.yml
 * selects which are investigated at once; a malformed body is refused with the reason and stores nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fetchIncident } from '../../client/incidents';
import { alertmanagerBody } from '../helpers/alerts';
import { eventually, startTestServer, type TestServer } from '../helpers/server';
import { closeTestEnvironment, testEnvironment } from '../helpers/temporal';

let server: TestServer;
const opened = new Set<string>();

before(async () => {
  server = await startTestServer({
    extraConfig: {
      investigations: {
        auto_investigate: [{ source: 'alertmanager', severity: ['critical'], labels: { environment: 'production' } }],
      },
    },
  });
});
after(async () => {
  const env = await testEnvironment();
  for (const id of opened)
    await env.client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  await server?.close();
  await closeTestEnvironment();
});

interface Accepted {
  received: number;
  incidents: { id: string; joined: boolean; investigating: boolean }[];
}

async function investigationsOnQueue(): Promise<number> {
  const env = await testEnvironment();
  const { count } = await env.client.workflow.count(
    `WorkflowType = 'investigation' AND TaskQueue = '${server.taskQueue}'`,
  );
  return count;
}

describe('the alert intake', () => {
  it('refuses a malformed body with the reason, then groups 20 alerts of 3 groups into 3 incidents', async () => {
    const tag = randomUUID().slice(0, 8);
    const broken = alertmanagerBody(`Broken${tag}`, 2);
    delete (broken.alerts[1] as { startsAt?: string }).startsAt;
    const refused = await server.call<{ error: string; message: string }>('POST', '/api/alerts', {
      user: 'olivia',
      body: broken,
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /^Alertmanager webhook: alerts\[1\]\.startsAt: /);
    const anonymous = await server.call('POST', '/api/alerts', { body: alertmanagerBody(`Anon${tag}`, 1) });
    assert.equal(anonymous.status, 401);

    const groups = [
      alertmanagerBody(`HighErrorRate${tag}`, 8, 'critical'),
      alertmanagerBody(`QueueBacklog${tag}`, 7, 'warning'),
      alertmanagerBody(`DiskAlmostFull${tag}`, 5, 'critical'),
    ];
    groups[2]!.commonLabels.environment = 'staging';
    for (const alert of groups[2]!.alerts) alert.labels.environment = 'staging';
    const ids: string[][] = [];
    for (const body of groups) {
      const { status, body: accepted } = await server.call<Accepted>('POST', '/api/alerts', { user: 'olivia', body });
      assert.equal(status, 202, JSON.stringify(accepted));
      assert.equal(accepted.received, body.alerts.length);
      accepted.incidents.forEach((incident) => opened.add(incident.id));
      assert.deepEqual(
        accepted.incidents.map((incident) => incident.joined),
        body.alerts.map((_, index) => index > 0),
        'the first alert of a group opens the incident, the others join it',
      );
      ids.push(accepted.incidents.map((incident) => incident.id));
    }
    const distinct = new Set(ids.flat());
    assert.equal(distinct.size, 3);
    assert.deepEqual(
      groups.map((_, index) => new Set(ids[index]).size),
      [1, 1, 1],
    );
    const env = await testEnvironment();
    const incidents = await Promise.all(ids.map(([id]) => fetchIncident(env.client, id!)));
    assert.deepEqual(
      incidents.map((incident) => incident.count),
      [8, 7, 5],
    );
    assert.equal(incidents[0]!.source, 'alertmanager');
    assert.equal(incidents[0]!.title, `HighErrorRate${tag} is firing`);
    // Only the critical production group matches the auto-investigate rule.
    const investigating = await Promise.all(
      groups.map(async (body) => {
        const { body: again } = await server.call<Accepted>('POST', '/api/alerts', {
          user: 'olivia',
          body: { ...body, alerts: body.alerts.slice(0, 1) },
        });
        return again.incidents[0]!.investigating;
      }),
    );
    assert.deepEqual(investigating, [true, false, false]);
    // The malformed body started nothing: the queue holds exactly the three incidents.
    await eventually('three investigations are visible', async () =>
      (await investigationsOnQueue()) === 3 ? true : undefined,
    );
    assert.equal(await investigationsOnQueue(), 3);
  });
});
