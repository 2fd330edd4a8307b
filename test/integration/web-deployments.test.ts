/**
 * The Deployments pages in a real browser (Debian's Chromium via playwright-core), on the real server, Temporal,
 * workers, Docker and routers: a viewer sees a canary waiting on its gate but no buttons; an approver presses
 * Approve and watches the deployment move on live (server-sent events, no reload), a gate approved through the API
 * shows up on the open page; a form without the CSRF token is refused.
 *
 * With CONVEYOR_SCREENSHOT_DIR set, the deployment page waiting on its gate is saved there as
 * `deployment-page.png` (how docs/images/deployment-page.png was made).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signInAs, withBrowser } from '../helpers/browser';
import { canaryDeployment, ensureServiceImage } from '../helpers/deployments';
import { startTestServer, type TestServer } from '../helpers/server';
import { closeTestEnvironment } from '../helpers/temporal';

const environment = 'staging';
let server: TestServer;

describe('the web view of deployments', () => {
  before(async () => {
    await Promise.all(['v1', 'v2'].map(ensureServiceImage));
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
    await closeTestEnvironment();
  });

  it('shows a canary waiting on its gate, buttons only to those allowed, and moves on when the approver approves', async () => {
    const deployment = await canaryDeployment(server.context.client, server.taskQueue, 'web', environment);
    const { service } = deployment;
    const pagePath = `/deployments/${service}/${environment}`;
    try {
      await deployment.rollout('v1');
      await deployment.wait('v1 live', (s) => s.state === 'complete' && s.stable?.version === 'v1');
      await deployment.rollout('v2', [
        { set_weight: 30 },
        { approval: { name: 'prod', approvers: ['alice'] } },
        { set_weight: 60 },
        { approval: { name: 'final', approvers: ['alice'] } },
      ]);
      await deployment.wait('the gate', (s) => s.state === 'awaiting_approval' && s.weights.canary === 30);

      // a viewer: the deployment is listed and shown, without a single button
      await withBrowser(async (page) => {
        await signInAs(server, page, 'victor', '/deployments');
        const row = page.locator(`tr[data-deployment="${service}/${environment}"]`);
        assert.match((await row.textContent()) ?? '', /awaiting approval.*v1 → v2.*30 %.*prod/s);
        await row.locator('a').click();
        await page.waitForURL((url) => url.pathname === pagePath);
        assert.match((await page.textContent('#gate')) ?? '', /Waiting for approval: gate 'prod'.*alice/s);
        assert.equal(await page.locator('#controls form').count(), 0, 'a viewer sees no buttons');
        assert.match((await page.textContent('#weight')) ?? '', /canary 30 %/);
      });

      // the approver: buttons that apply; a form without its CSRF token is refused; Approve moves the rollout on
      await withBrowser(async (page, context) => {
        await signInAs(server, page, 'alice', pagePath);
        const controls = await page
          .locator('#controls form')
          .evaluateAll((forms) =>
            forms.map((form) => (form as unknown as { dataset: { control: string } }).dataset.control),
          );
        assert.deepEqual(controls, ['approve', 'reject', 'abort']);
        const forged = await context.request.post(`${server.url}${pagePath}/approve`, {
          form: { gate: 'prod' },
          maxRedirects: 0,
        });
        assert.equal(forged.status(), 403);
        assert.match(await forged.text(), /CSRF/);
        assert.equal((await deployment.wait('still waiting', (s) => s.gate !== null)).approvals.length, 0);

        if (process.env.CONVEYOR_SCREENSHOT_DIR) {
          await page.screenshot({
            path: path.join(process.env.CONVEYOR_SCREENSHOT_DIR, 'deployment-page.png'),
            fullPage: true,
          });
        }
        // A gate decided elsewhere (the API) shows up live: no reload (the marker on window survives), the next
        // gate's buttons come in with its name.
        await page.evaluate(() => Object.assign(globalThis, { conveyorMarker: 'kept' }));
        const viaApi = await server.call('POST', `/api${pagePath}/approve`, { user: 'alice', body: { gate: 'prod' } });
        assert.ok(viaApi.status < 300, `API approve: ${viaApi.status} ${JSON.stringify(viaApi.body)}`);
        await page.locator('#gate', { hasText: "gate 'final'" }).waitFor({ timeout: 120_000 });
        assert.match((await page.textContent('#decisions')) ?? '', /prod\s*approved\s*alice\s*api/);
        assert.match((await page.textContent('#weight')) ?? '', /canary 60 %/);
        assert.equal(await page.evaluate(() => (globalThis as { conveyorMarker?: string }).conveyorMarker), 'kept');

        await Promise.all([page.waitForURL((url) => url.pathname === pagePath), page.click('button.approve')]);
        // The page follows the deployment live (no reload) until v2 is stable, and the buttons go away.
        await page.evaluate(() => Object.assign(globalThis, { conveyorMarker: 'after approve' }));
        await page.waitForSelector('#deploy-state .badge--complete', { timeout: 120_000 });
        assert.match((await page.textContent('#stable')) ?? '', /^\s*v2 \(/);
        assert.equal(await page.locator('#controls form').count(), 0, 'nothing to press once the rollout is done');
        assert.match((await page.textContent('#decisions')) ?? '', /final\s*approved\s*alice\s*web/);
        assert.equal(
          await page.evaluate(() => (globalThis as { conveyorMarker?: string }).conveyorMarker),
          'after approve',
          'the page updated without reloading',
        );
      });
    } finally {
      await deployment.destroy();
    }
  });
});
