/**
 * Records the history of an `investigation` workflow for test/replay (docs/investigations.md): a failed run opens
 * its incident, the investigation frames, hypothesises, checks and reports, and a human resolves it — the whole
 * life of an incident. The optional LLM narrative is configured for the recording (a temporary conveyor.config.yml
 * pointing at a local server speaking the chat-completions protocol), so the history holds that stage with an answer.
 * Written as `investigation-<label>.json` (label: the first argument, default today's date), never overwritten, like
 * scripts/record-histories.ts. Needs the embedded stack.
 * Run: `npx tsx scripts/record-investigation-history.ts [label]`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { benchJob, benchPipeline, benchStep, connectBench } from '../bench/harness';
import { incidentQuery, resolveUpdate } from '../workflows/investigation-messages';
import { runOutcome } from '../client/runs';
import { startChatServer } from '../test/helpers/chat-server';

async function main(): Promise<void> {
  const label = process.argv[2] ?? new Date().toISOString().slice(0, 10);
  const file = path.resolve(__dirname, `../test/replay/histories/investigation-${label}.json`);
  if (existsSync(file)) throw new Error(`${file} exists; histories are never overwritten (pass another label)`);
  const llm = await startChatServer();
  const configDir = await mkdtemp(path.join(tmpdir(), 'conveyor-record-'));
  process.env.CONVEYOR_CONFIG = path.join(configDir, 'conveyor.config.yml');
  await writeFile(process.env.CONVEYOR_CONFIG, `investigations:\n  llm: {url: '${llm.url}', model: recorder}\n`);
  const bench = await connectBench();
  try {
    const model = benchPipeline(`record-investigation-${Date.now()}`, [
      benchJob('build', [benchStep('compile', ['echo compiling', 'echo "error: missing semicolon" >&2', 'exit 2'])]),
    ]);
    let incident: string | undefined;
    await bench.runOnce(model, { graceSeconds: 2 }, async (handle) => {
      const status = await runOutcome(handle).catch(() => undefined);
      incident = status?.incident;
      if (!incident) throw new Error('the failed run opened no incident');
      const incidentHandle = bench.client.workflow.getHandle(incident);
      for (;;) {
        const view = await incidentHandle.query(incidentQuery).catch(() => undefined);
        if (view?.stage === 'done') break;
        await delay(200);
      }
      await incidentHandle.executeUpdate(resolveUpdate, { args: [{ cause: 'script_error', by: 'recorder' }] });
      await incidentHandle.result();
    });
    const history = await bench.client.workflow.getHandle(incident!).fetchHistory();
    await writeFile(file, `${JSON.stringify({ workflowId: incident, history: JSON.parse(historyToJSON(history)) })}\n`);
    console.log(`recorded ${path.basename(file)} (${history.events?.length} events)`);
    if (llm.requests.length !== 1) throw new Error(`expected one narrative request, saw ${llm.requests.length}`);
  } finally {
    await bench.close();
    await llm.close();
    await rm(configDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
