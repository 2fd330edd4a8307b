/**
 * A real browser for tests: Debian's Chromium driven by playwright-core (no browser download), headless, with a
 * fresh profile directory that is removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { TestServer, TestUser } from './server';

/** Where `scripts/setup` installs Chromium (Debian's `chromium` package). */
export const chromiumPath = '/usr/bin/chromium';

/** A browser context on a fresh profile; `close` ends it and removes the profile. */
export async function openBrowser(
  options: { viewport?: { width: number; height: number }; isMobile?: boolean } = {},
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'conveyor-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    isMobile: options.isMobile,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs `user` in with their token through the login page the server redirects `next` to. */
export async function signInAs(server: TestServer, page: Page, user: TestUser, next: string): Promise<void> {
  await page.goto(`${server.url}${next}`);
  assert.match(page.url(), /\/login\?next=/);
  await page.fill('#token', server.tokens[user]);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.click('button[type=submit]')]);
}

/** Runs `body` with a page of a fresh browser, failing if the page raised a script error. */
export async function withBrowser<T>(
  body: (page: Page, context: BrowserContext) => Promise<T>,
  options?: Parameters<typeof openBrowser>[0],
): Promise<T> {
  const browser = await openBrowser(options);
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const result = await body(page, browser.context);
    assert.deepEqual(errors, [], 'no script errors on the page');
    return result;
  } finally {
    await browser.close();
  }
}
