/**
 * Takes the web view's screenshots for the README (docs/images/): the run page of `examples/node-app.yml` while it
 * runs, and a phone-sized one of the same page. Needs the embedded stack (`bin/conveyor dev up`) and Chromium; the
 * server runs in this process on a free port with a user of its own, and the run on the stack's worker.
 *
 * Usage: npx tsx scripts/screenshots.ts
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { newToken } from '../config/access-tokens';
import { buildServer } from '../server/app';
import { createServerContext } from '../server/create-context';
import { openBrowser } from '../test/helpers/browser';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { loadConfig } from '../workers/config';
import { parsePipeline } from '../pipeline';
import { startRun } from '../client/run-control';

const root = path.resolve(__dirname, '..');
const images = path.join(root, 'docs/images');

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'conveyor-screenshots-'));
  const { token, entry } = newToken('olivia', 'screenshots');
  const configFile = path.join(dir, 'conveyor.config.yml');
  writeFileSync(
    configFile,
    stringify({ access: { users: { olivia: { name: 'Olivia Operator', roles: ['operator'] } }, tokens: [entry] } }),
  );
  const env = { ...process.env, CONVEYOR_CONFIG: configFile };
  const config = loadConfig(env);
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const context = createServerContext({ config, client, env });
  const app = await buildServer(context);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const browser = await openBrowser({ viewport: { width: 1280, height: 860 } });
  try {
    mkdirSync(images, { recursive: true });
    const source = readFileSync(path.join(root, 'examples/node-app.yml'), 'utf8');
    const parsed = parsePipeline(source, { defaultImage: config.defaultImage });
    if (!parsed.valid) throw new Error('examples/node-app.yml is not valid');
    const runId = await startRun(client, config, { pipeline: parsed.pipeline, vars: {}, trigger: 'api:olivia' });
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(`${url}/login?next=${encodeURIComponent(`/runs/${runId}`)}`);
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(/\/runs\/run-/), page.click('button[type=submit]')]);
    // Mid-run: some jobs done, one running, output flowing.
    await page.waitForSelector('.dag .job--success', { timeout: 120_000 });
    await page.waitForSelector('.dag .job--running', { timeout: 120_000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(images, 'run-page.png'), fullPage: true });
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${url}/runs/${runId}`);
    await phone.waitForSelector('#job-detail table');
    await phone.screenshot({ path: path.join(images, 'run-page-phone.png') });
    console.log(`wrote docs/images/run-page.png and run-page-phone.png (run ${runId})`);
  } finally {
    await browser.close();
    context.runs.close();
    await app.close();
    await connection.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
