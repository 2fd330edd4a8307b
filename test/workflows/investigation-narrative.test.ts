/**
 * The optional LLM narrative on real failing runs (docs/investigations.md, "Optional LLM narrative"): with an
 * OpenAI-compatible endpoint in conveyor.config.yml (here a local server speaking the protocol), RCA.md and
 * `conveyor incidents show --json` carry its narrative and its suggested hypotheses, which change no verdict; the
 * request carries the model, the Bearer key and the masked facts, never the step's secret. When the endpoint errs
 * (500), is too slow (timeout) or answers garbage, the report goes out without a narrative and with a one-line note.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InvestigationLlmSettings } from '../../config/investigations-llm';
import type { IncidentReport } from '../../client/incidents';
import { startChatServer, type ChatServer } from '../helpers/chat-server';
import { conveyor, lastJsonLine } from '../helpers/cli';
import { withInvestigations, type InvestigationBench } from '../helpers/incidents';
import { job, pipeline, step } from '../helpers/models';
import { closeTestEnvironment } from '../helpers/temporal';

let dir: string;
let server: ChatServer;
const saved = { config: process.env.CONVEYOR_CONFIG, key: process.env.CONVEYOR_TEST_LLM_KEY };
const apiKey = `sk-test-${randomUUID().slice(0, 8)}`;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-narrative-'));
  server = await startChatServer();
  process.env.CONVEYOR_CONFIG = path.join(dir, 'conveyor.config.yml');
  process.env.CONVEYOR_TEST_LLM_KEY = apiKey;
});
after(async () => {
  for (const [name, value] of [
    ['CONVEYOR_CONFIG', saved.config],
    ['CONVEYOR_TEST_LLM_KEY', saved.key],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await server.close();
  await rm(dir, { recursive: true, force: true });
  await closeTestEnvironment();
});

/** Writes conveyor.config.yml with `investigations.llm` pointing at the local server (re-read per incident). */
async function configure(settings: Partial<InvestigationLlmSettings> = {}): Promise<void> {
  const llm = { url: server.url, model: 'narrator-1', api_key_env: 'CONVEYOR_TEST_LLM_KEY', ...settings };
  await writeFile(process.env.CONVEYOR_CONFIG!, `investigations:\n  llm: ${JSON.stringify(llm)}\n`);
}

/** Runs a pipeline whose step prints a secret then fails, and returns its investigated incident and RCA.md. */
async function failAndInvestigate(bench: InvestigationBench, name: string) {
  const model = pipeline(`inv-llm-${name}-${randomUUID().slice(0, 8)}`, [
    job(
      'build',
      [step('compile', ['echo "compiling with $TOKEN"', 'echo "error: token $TOKEN rejected" >&2', 'exit 1'])],
      { environment: { TOKEN: '${secrets.API_TOKEN}' } },
    ),
  ]);
  const { status } = await bench.run(model);
  assert.equal(status.status, 'failed');
  assert.ok(status.incident, 'the failed run names its incident');
  const incident = await bench.investigated(status.incident);
  return { incident, rca: await bench.document(incident.reports.rca) };
}

const secret = `inv-llm-s3cr3t-${randomUUID().slice(0, 6)}`;

describe('the optional LLM narrative on real runs', () => {
  it('adds the narrative and untested hypotheses to RCA.md and incidents show --json, deciding nothing', async () => {
    await configure();
    server.mode = 'answer';
    server.requests.length = 0;
    await withInvestigations(
      'inv-llm',
      async (bench) => {
        const { incident, rca } = await failAndInvestigate(bench, 'ok');
        assert.equal(incident.rootCause?.cause, 'script_error', 'the verdicts decide, not the narrative');
        assert.equal(incident.hypotheses.find((h) => h.cause === 'oom')?.verdict, 'fail');
        assert.match(rca, /## Narrative \(LLM narrator-1; prose only, it decides no verdict\)/);
        assert.match(rca, /compiler reported a missing symbol/);
        assert.match(rca, /- stale_build_cache — suggested, untested: A cached object file/);
        assert.match(rca, /- oom — a catalogue cause its check did not confirm \(fail\): ignored/);

        assert.equal(server.requests.length, 1, 'one request per incident');
        const [request] = server.requests;
        assert.equal(request?.path, '/v1/chat/completions');
        assert.equal(request?.authorization, `Bearer ${apiKey}`);
        const body = JSON.parse(request!.body) as { model: string; messages: { content: string }[] };
        assert.equal(body.model, 'narrator-1');
        assert.match(request!.body, /error: token \*\*\* rejected/, 'the failing line, masked, is in the prompt');
        assert.doesNotMatch(request!.body, new RegExp(secret), 'no secret in the prompt');

        const shown = await conveyor(['incidents', 'show', incident.id, '--json']);
        assert.equal(shown.code, 0, shown.stderr);
        const report = lastJsonLine<IncidentReport>(shown.stdout);
        assert.equal(report.narrative?.model, 'narrator-1');
        assert.match(report.narrative?.summary ?? '', /missing symbol/);
        assert.deepEqual(
          report.narrative?.hypotheses.map((suggestion) => [suggestion.cause, suggestion.status]),
          [
            ['stale_build_cache', 'untested'],
            ['oom', 'not_confirmed'],
          ],
        );
        assert.match(report.reports.rca ?? '', /## Narrative/);
        assert.equal(report.rootCause?.cause, 'script_error');
      },
      { secrets: { API_TOKEN: secret } },
    );
  });

  it('a 500, a timeout or a garbage answer leaves the report without a narrative and a one-line note', async () => {
    await withInvestigations(
      'inv-llm-fail',
      async (bench) => {
        const cases = [
          {
            mode: 'error500',
            settings: {},
            note: /answered 500 Internal Server Error \(gave up after its retries\)$/,
            attempts: 3,
          },
          {
            mode: 'hang',
            settings: { timeout_seconds: 2 },
            note: /did not answer within 2 s \(investigations\.llm\.timeout_seconds\) \(gave up after its retries\)$/,
            attempts: 3,
          },
          {
            mode: 'garbage',
            settings: {},
            note: /answered 200 with a body that is not JSON: "\{\\"choices/,
            attempts: 1,
          },
        ] as const;
        for (const { mode, settings, note, attempts } of cases) {
          await configure(settings);
          server.mode = mode;
          server.requests.length = 0;
          const { incident, rca } = await failAndInvestigate(bench, mode);
          assert.equal(incident.rootCause?.cause, 'script_error', mode);
          assert.equal(incident.narrative?.summary, undefined, mode);
          assert.match(incident.narrative?.note ?? '', note, mode);
          assert.doesNotMatch(rca, /## Narrative/, mode);
          const noted = rca.split('\n').filter((line) => line.startsWith('_No LLM narrative: '));
          assert.equal(noted.length, 1, `${mode}: one line says why\n${rca}`);
          assert.match(noted[0]!, note.source.endsWith('$') ? new RegExp(`${note.source.slice(0, -1)}\\._$`) : note);
          assert.equal(server.requests.length, attempts, `${mode}: ${attempts} attempt(s)`);
          assert.match(rca, /## Verdicts/, 'the rest of the report is there');
        }
      },
      { secrets: { API_TOKEN: secret } },
    );
  });
});
