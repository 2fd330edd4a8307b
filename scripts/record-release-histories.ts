/**
 * Records the previous release's histories that test/replay replays (docs/operations.md, "Rolling upgrades"): for
 * every workflow type the worker registers, the newest completed and the newest failed execution (an open or a terminated one when
 * there is neither) on the embedded
 * stack's Temporal, written to test/replay/histories/previous-release/<type>-<status>.json, and release.json naming
 * the commit they came from.
 *
 * Run it at a release, on a checkout of exactly that commit (it refuses uncommitted changes to workflows/), after the
 * stack's Temporal has run every workflow type on that code — for instance after the tests of runs, schedules,
 * concurrency groups, deployments, retention and investigations. Replace the folder's histories as a whole, so
 * they all come from one release; the older dated histories in test/replay/histories stay.
 * Run: `npx tsx scripts/record-release-histories.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { loadConfig } from '../workers/config';
import { previousReleaseDir, registeredWorkflowTypes } from '../test/helpers/previous-release';

/** Larger histories are left out: the replay suite should stay quick. */
const maxEvents = 3000;

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const changed = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'workflows'], { encoding: 'utf8' });
  if (changed.trim() !== '')
    throw new Error(`workflows/ has uncommitted changes; record on a release commit:\n${changed}`);
  const commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const config = loadConfig();
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  await mkdir(previousReleaseDir, { recursive: true });
  const missing: string[] = [];
  try {
    for (const type of registeredWorkflowTypes()) {
      let found = 0;
      // Closed executions first; a type whose workflows stay open long (investigations) may only have open ones.
      for (const status of ['Completed', 'Failed', 'Running', 'Terminated']) {
        if ((status === 'Running' || status === 'Terminated') && found > 0) break;
        const query = `WorkflowType = '${type}' AND ExecutionStatus = '${status}'`;
        for await (const execution of client.workflow.list({ query })) {
          if (execution.historyLength > maxEvents) continue;
          const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
          const record = { workflowId: execution.workflowId, history: JSON.parse(historyToJSON(history)) as unknown };
          const file = path.join(previousReleaseDir, `${type}-${status.toLowerCase()}.json`);
          await writeFile(file, `${JSON.stringify(record)}\n`);
          console.log(`recorded ${path.basename(file)} (${history.events?.length} events, ${execution.workflowId})`);
          found += 1;
          break;
        }
      }
      if (found === 0) missing.push(type);
    }
    const release = {
      commit,
      recorded: new Date().toISOString().slice(0, 10),
      note: 'The previous release. The histories beside this file were recorded by its code (scripts/record-release-histories.ts); test/integration/rolling-upgrade.test.ts runs its workers. Move both forward together at each release (docs/operations.md, "Rolling upgrades").',
    };
    await writeFile(path.join(previousReleaseDir, 'release.json'), `${JSON.stringify(release, null, 2)}\n`);
    if (missing.length > 0) throw new Error(`no closed execution of ${missing.join(', ')}: run those workflows first`);
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
