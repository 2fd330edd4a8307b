/**
 * The deployments API end to end: the real server, Temporal dev server, workers, Docker and routers. A canary
 * rollout is driven through every control — pause, resume, promote, approve, abort, rollback — and every refusal
 * (401, 403 naming the role, 400 naming the field, 404, 409 with the workflow validator's reason) changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeTestEnvironment } from '../helpers/temporal';
import { startTestServer, type TestServer } from '../helpers/server';
import { canaryDeployment, ensureServiceImage } from '../helpers/deployments';
import type { DeploymentStatus } from '../../workflows/deployment-messages';

const environment = 'staging';
let server: TestServer;

describe('the deployments API', () => {
  before(async () => {
    await Promise.all(['v1', 'v2', 'v3'].map(ensureServiceImage));
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
    await closeTestEnvironment();
  });

  it('lists, shows and controls a canary rollout through the workflow validators, refusing what users may not do', async () => {
    const { client } = server.context;
    const deployment = await canaryDeployment(client, server.taskQueue, 'api', environment);
    const { service, wait } = deployment;
    const base = `/api/deployments/${service}/${environment}`;
    const status = async () =>
      (await server.call<DeploymentStatus & { allowed: string[] }>('GET', base, { user: 'alice' })).body;
    try {
      await deployment.rollout('v1');
      await wait('v1 live', (s) => s.state === 'complete' && s.stable?.version === 'v1');

      // list: anonymous 401, a user without any role 403, a viewer sees it
      assert.equal((await server.call('GET', '/api/deployments')).status, 401);
      const none = await server.call('GET', '/api/deployments', { user: 'nobody' });
      assert.equal(none.status, 403);
      assert.equal((none.body as { missingRole?: string }).missingRole, 'viewer');
      const listed = await server.call<{
        deployments: { service: string; environment: string; links: { web: string } }[];
      }>('GET', '/api/deployments', { user: 'victor' });
      assert.equal(listed.status, 200);
      const mine = listed.body.deployments.find((d) => d.service === service);
      assert.equal(mine?.environment, environment);
      assert.equal(mine?.links.web, `/deployments/${service}/${environment}`);

      // status: 400 on a bad name, 404 on an unknown deployment, what each caller may do
      const bad = await server.call('GET', `/api/deployments/Web!/${environment}`, { user: 'victor' });
      assert.equal(bad.status, 400);
      assert.match(String((bad.body as { message: string }).message), /params\.service/);
      assert.equal(
        (await server.call('GET', `/api/deployments/nope-${service}/${environment}`, { user: 'victor' })).status,
        404,
      );
      const viewed = await server.call<{ stable: { version: string }; allowed: string[] }>('GET', base, {
        user: 'victor',
      });
      assert.equal(viewed.status, 200);
      assert.equal(viewed.body.stable.version, 'v1');
      assert.deepEqual(viewed.body.allowed, []);
      assert.deepEqual((await status()).allowed.sort(), [
        'abort',
        'approve',
        'pause',
        'promote',
        'reject',
        'resume',
        'rollback',
      ]);

      await deployment.rollout('v2', [
        { set_weight: 20 },
        { pause: {} },
        { approval: { name: 'prod', approvers: ['alice'] } },
        { set_weight: 60 },
      ]);
      await wait('the pause at 20 %', (s) => s.step?.kind === 'pause' && s.weights.canary === 20);

      // refusals at the pause: each answers with the validator's reason and changes nothing
      const before = await status();
      const noGate = await server.call('POST', `${base}/approve`, { user: 'alice', body: {} });
      assert.equal(noGate.status, 409);
      assert.match(String((noGate.body as { message: string }).message), /no approval gate is open/);
      const viewerApprove = await server.call('POST', `${base}/approve`, { user: 'victor', body: {} });
      assert.equal(viewerApprove.status, 403);
      assert.equal((viewerApprove.body as { missingRole: string }).missingRole, 'approver');
      const operatorApprove = await server.call('POST', `${base}/approve`, { user: 'olivia', body: {} });
      assert.equal(operatorApprove.status, 403);
      assert.match(
        String((operatorApprove.body as { message: string }).message),
        /lacks the 'approver' role in environment 'staging'/,
      );
      const viewerPromote = await server.call('POST', `${base}/promote`, { user: 'victor', body: {} });
      assert.equal(viewerPromote.status, 403);
      assert.equal((viewerPromote.body as { missingRole: string }).missingRole, 'operator');
      assert.equal((await server.call('POST', `${base}/promote`, { body: {} })).status, 401);
      const badBody = await server.call('POST', `${base}/promote`, { user: 'olivia', body: { full: 'yes' } });
      assert.equal(badBody.status, 400);
      assert.match(String((badBody.body as { message: string }).message), /body\.full/);
      const unknownField = await server.call('POST', `${base}/abort`, { user: 'olivia', body: { force: true } });
      assert.equal(unknownField.status, 400);
      const fullPromote = await server.call('POST', `${base}/promote`, { user: 'olivia', body: { full: true } });
      assert.equal(fullPromote.status, 409);
      assert.match(String((fullPromote.body as { message: string }).message), /would skip approval gate 'prod'/);
      const notPaused = await server.call('POST', `${base}/resume`, { user: 'olivia', body: {} });
      assert.equal(notPaused.status, 409);
      assert.match(String((notPaused.body as { message: string }).message), /not paused/);
      const after = await status();
      assert.equal(after.state, before.state);
      assert.deepEqual(after.weights, before.weights);
      assert.deepEqual(after.approvals, []);
      assert.equal(after.held, null);

      // pause and resume
      const paused = await server.call<{ message: string }>('POST', `${base}/pause`, {
        user: 'olivia',
        body: { comment: 'checking dashboards' },
      });
      assert.equal(paused.status, 200, JSON.stringify(paused.body));
      await wait('held', (s) => s.held !== null);
      const pausedAgain = await server.call('POST', `${base}/pause`, { user: 'olivia', body: {} });
      assert.equal(pausedAgain.status, 409);
      assert.match(String((pausedAgain.body as { message: string }).message), /already paused/);
      assert.equal((await server.call('POST', `${base}/resume`, { user: 'olivia', body: {} })).status, 200);
      await wait('resumed', (s) => s.held === null);

      // promote to the gate; a wrong gate is refused; the approver approves
      assert.equal((await server.call('POST', `${base}/promote`, { user: 'olivia', body: {} })).status, 200);
      await wait('the gate', (s) => s.state === 'awaiting_approval' && s.gate?.name === 'prod');
      const wrongGate = await server.call('POST', `${base}/approve`, { user: 'alice', body: { gate: 'qa' } });
      assert.equal(wrongGate.status, 409);
      assert.match(
        String((wrongGate.body as { message: string }).message),
        /gate 'qa' is not open: the open gate is 'prod'/,
      );
      const approved = await server.call<{ message: string; state: string }>('POST', `${base}/approve`, {
        user: 'alice',
        body: { comment: 'looks good' },
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.message, "approved gate 'prod' (1 of 1)");
      const live = await wait('v2 live', (s) => s.state === 'complete' && s.stable?.version === 'v2');
      const decision = live.approvals.find((d) => d.decision === 'approved');
      assert.deepEqual(decision && { user: decision.user, channel: decision.channel, comment: decision.comment }, {
        user: 'alice',
        channel: 'api',
        comment: 'looks good',
      });
      const controls = live.controls.map((c) => `${c.control}:${c.user}:${c.channel}:${c.outcome}`);
      assert.deepEqual(
        controls.filter((c) => c.startsWith('pause') || c.startsWith('resume') || c.startsWith('promote')),
        ['pause:olivia:api:applied', 'resume:olivia:api:applied', 'promote:olivia:api:applied'],
      );

      // abort a third rollout; then roll back to v1
      await deployment.rollout('v3', [{ set_weight: 20 }, { pause: {} }]);
      await wait('v3 at its pause', (s) => s.step?.kind === 'pause' && s.canary?.version === 'v3');
      const aborted = await server.call('POST', `${base}/abort`, { user: 'olivia', body: { comment: 'wrong build' } });
      assert.equal(aborted.status, 200, JSON.stringify(aborted.body));
      await wait('v3 aborted', (s) => s.rollout === null && s.stable?.version === 'v2' && s.history.length === 3);
      const rolledBack = await server.call('POST', `${base}/rollback`, { user: 'olivia', body: { to: 'v1' } });
      assert.equal(rolledBack.status, 200, JSON.stringify(rolledBack.body));
      await wait('back on v1', (s) => s.rollout === null && s.stable?.version === 'v1');
    } finally {
      await deployment.destroy();
    }
    // a destroyed deployment takes no more controls
    assert.equal((await server.call('POST', `${base}/approve`, { user: 'alice', body: {} })).status, 404);
  });
});
