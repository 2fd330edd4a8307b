/**
 * The web view in a real browser (Debian's Chromium via playwright-core): signing in with a token into an HTTP-only
 * SameSite=Strict cookie, a run page that follows a running pipeline without reloading, buttons only for operators,
 * CSRF protection on forms, and a layout that fits a phone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { signInAs, withBrowser } from '../helpers/browser';
import { closeTestEnvironment } from '../helpers/temporal';
import { eventually, startTestServer, type TestServer, type TestUser } from '../helpers/server';

/** The page's `document`, as far as the callbacks evaluated in the browser use it (tests compile without the DOM lib). */
declare const document: {
  querySelector(
    selector: string,
  ): { classList: { contains(name: string): boolean }; textContent: string | null } | null;
  getElementById(id: string): { textContent: string | null } | null;
  documentElement: { scrollWidth: number; clientWidth: number };
  cookie: string;
};

let server: TestServer;
const busybox = 'image: conveyor/busybox:latest';

async function startRun(yaml: string): Promise<string> {
  const { status, body } = await server.call<{ runId: string }>('POST', '/api/runs', {
    user: 'olivia',
    body: { pipeline: yaml },
  });
  assert.equal(status, 201, JSON.stringify(body));
  return body.runId;
}

async function runStatus(runId: string): Promise<string> {
  const { body } = await server.call<{ status: string }>('GET', `/api/runs/${runId}`, { user: 'victor' });
  return body.status;
}

const signIn = (page: Page, user: TestUser, next = '/runs') => signInAs(server, page, user, next);

describe('the web view of runs', () => {
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
    await closeTestEnvironment();
  });

  it('signs in with a token into an HTTP-only SameSite=Strict cookie, and refuses a wrong token', async () => {
    await withBrowser(async (page, context) => {
      await page.goto(`${server.url}/runs`);
      await page.fill('#token', 'cvy_wrong');
      await page.click('button[type=submit]');
      await page.waitForSelector('.error');
      assert.match((await page.textContent('.error')) ?? '', /unknown or was revoked/);
      assert.equal(
        (await context.cookies()).find((c) => c.name === 'conveyor_session'),
        undefined,
      );

      await page.fill('#token', server.tokens.victor);
      await Promise.all([page.waitForURL(/\/runs$/), page.click('button[type=submit]')]);
      assert.equal(await page.textContent('h1'), 'Runs');
      assert.match((await page.textContent('.who')) ?? '', /Victor Viewer/);
      const session = (await context.cookies()).find((c) => c.name === 'conveyor_session');
      assert.ok(session, 'a session cookie was set');
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      assert.equal(await page.evaluate(() => document.cookie.includes('conveyor_session')), false);
    });
  });

  it('shows a running pipeline live: jobs change state and log lines arrive without a reload', async () => {
    const runId = await startRun(
      [
        'name: web-live',
        'jobs:',
        '  first:',
        `    steps: [{name: warm-up, ${busybox}, script: ["echo warming up", "sleep 3", "echo warm"]}]`,
        '  second:',
        '    depends_on: [first]',
        `    steps: [{name: talk, ${busybox}, script: ["echo line one from second", "sleep 2", "echo line two from second"]}]`,
        '',
      ].join('\n'),
    );
    await withBrowser(async (page) => {
      await signIn(page, 'victor', `/runs/${runId}`);
      let navigations = 0;
      page.on('framenavigated', () => navigations++);
      const classOf = (job: string) => page.getAttribute(`.dag [data-job="${job}"]`, 'class');
      await page.waitForFunction(() =>
        document.querySelector('.dag [data-job="first"]')?.classList.contains('job--running'),
      );
      assert.match((await classOf('second')) ?? '', /job--pending/);
      await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('warming up'));
      assert.equal(await runStatus(runId), 'running', 'the first line was shown while the run was still running');
      await page.waitForFunction(
        () => document.querySelector('.dag [data-job="second"]')?.classList.contains('job--running'),
        undefined,
        { timeout: 60_000 },
      );
      assert.match((await classOf('first')) ?? '', /job--success/);
      await page.waitForFunction(
        () => document.getElementById('log')?.textContent?.includes('line two from second'),
        undefined,
        {
          timeout: 60_000,
        },
      );
      await page.waitForFunction(() => document.querySelector('#run-status .badge')?.textContent === 'success');
      assert.match((await classOf('second')) ?? '', /job--success/);
      assert.equal(navigations, 0, 'the page was never reloaded');

      // The selected job's steps: attempts and exit codes; clicking another job shows its steps.
      await page.click('.dag [data-job="first"]');
      await page.waitForSelector('#job-detail[data-job="first"] tr[data-step="warm-up"]');
      const cells = await page.$$eval('#job-detail tr[data-step="warm-up"] td', (tds) =>
        tds.map((td) => td.textContent),
      );
      assert.deepEqual(cells.slice(0, 4), ['warm-up', 'success', '1', '0']);
      const lines = await page.$$eval('#log .line:not([hidden])', (spans) => spans.map((span) => span.textContent));
      assert.deepEqual(lines, ['first/warm-up warming up\n', 'first/warm-up warm\n'], 'the log shows the selected job');
      const temporal = await page.getAttribute('a.button[href*="/workflows/"]', 'href');
      assert.equal(temporal, server.context.temporalUiUrl(runId));
    });
  });

  it('shows cancel and re-run only to operators, and an operator cancels a run from the page', async () => {
    const runId = await startRun(
      `name: web-cancel\njobs:\n  wait:\n    steps: [{name: s, ${busybox}, script: ["sleep 60"]}]\n`,
    );
    await eventually('the job runs', async () => {
      const { body } = await server.call<{ jobs: Record<string, { status: string }> }>('GET', `/api/runs/${runId}`, {
        user: 'victor',
      });
      return body.jobs.wait?.status === 'running' ? true : undefined;
    });
    await withBrowser(async (page) => {
      await signIn(page, 'victor', `/runs/${runId}`);
      await page.waitForSelector('.dag [data-job="wait"].job--running');
      assert.equal(await page.locator('form[data-action]').count(), 0, 'a viewer gets no action forms at all');
      assert.equal(await page.locator('button', { hasText: /Cancel|Re-run/ }).count(), 0);
    });
    await withBrowser(async (page) => {
      await signIn(page, 'olivia', `/runs/${runId}`);
      await page.waitForSelector('form[data-action="cancel"]:not([hidden]) button');
      assert.equal(await page.isVisible('form[data-action="rerun"] button'), false, 'nothing to re-run yet');
      await Promise.all([
        page.waitForURL(new RegExp(`/runs/${runId}$`)),
        page.click('form[data-action="cancel"] button'),
      ]);
      await page.waitForFunction(
        () => document.querySelector('#run-status .badge')?.textContent === 'cancelled',
        undefined,
        {
          timeout: 60_000,
        },
      );
      await page.waitForSelector('form[data-action="rerun"]:not([hidden]) button');
      assert.equal(await page.isVisible('form[data-action="cancel"] button'), false);
    });
    assert.equal(await runStatus(runId), 'cancelled');
  });

  it('refuses a state-changing form without its CSRF token, even with a valid session cookie', async () => {
    const runId = await startRun(
      `name: web-csrf\njobs:\n  wait:\n    steps: [{name: s, ${busybox}, script: ["sleep 30"]}]\n`,
    );
    const cookie = `conveyor_session=${server.tokens.olivia}`;
    const post = (body: string) =>
      fetch(`${server.url}/runs/${runId}/cancel`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      });
    const missing = await post('');
    assert.equal(missing.status, 403);
    assert.match(await missing.text(), /CSRF/);
    assert.equal((await post('_csrf=forged')).status, 403);
    assert.equal(await runStatus(runId), 'running', 'nothing was cancelled');
    const login = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${server.tokens.olivia}&_csrf=guess`,
      redirect: 'manual',
    });
    assert.equal(login.status, 403, 'a sign-in posted from elsewhere is refused');
    assert.equal(login.headers.get('set-cookie')?.includes('conveyor_session='), false);
    await server.call('POST', `/api/runs/${runId}/cancel`, { user: 'olivia' });
  });

  it('fits a phone: the runs list and a run page need no sideways scrolling', async () => {
    const runId = await startRun(
      `name: web-phone\njobs:\n  only:\n    steps: [{name: s, ${busybox}, script: [echo hi]}]\n`,
    );
    await eventually('the run ends', async () => ((await runStatus(runId)) === 'running' ? undefined : true));
    await withBrowser(
      async (page) => {
        await signIn(page, 'victor', '/runs');
        const overflow = () =>
          page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok((await overflow()) <= 1, 'the runs list fits');
        await page.goto(`${server.url}/runs/${runId}`);
        await page.waitForSelector('#job-detail tr[data-step="s"]');
        assert.ok((await overflow()) <= 1, 'the run page fits');
      },
      { viewport: { width: 390, height: 844 }, isMobile: true },
    );
  });
});
