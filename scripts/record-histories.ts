/**
 * Records the histories that test/replay replays: one run of each workflow shape Conveyor has — a run with inline
 * jobs (a failure, a skip, a retry and an `always()` job; a failed pipeline is a Failed workflow), the same with
 * child-workflow jobs, one `pipelineJob` child, and a run cancelled while a cleanup job (`if: always()`) runs.
 *
 * Files are named `<shape>-<label>.json` (label: the first argument, default today's date) and never overwritten:
 * older histories are what prove that runs started by older code still replay, so keep them. Record new ones after
 * a change to a workflow's command sequence, behind `patched()`. Needs the embedded stack.
 * Run: `npx tsx scripts/record-histories.ts [label]`.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { benchJob, benchPipeline, benchStep, connectBench, docker } from '../bench/harness';

async function main(): Promise<void> {
  const label = process.argv[2] ?? new Date().toISOString().slice(0, 10);
  const bench = await connectBench();
  const out = path.resolve(__dirname, '../test/replay/histories');
  const jobs = [
    benchJob('build', [benchStep('compile', ['echo compiled']), benchStep('test', ['exit 3'])]),
    benchJob('flaky', [
      { ...benchStep('retry', ['test -f /workspace/x || { touch /workspace/x; exit 1; }']), retryCount: 1 },
    ]),
    benchJob('deploy', [benchStep('ship', ['true'])], ['build']),
    { ...benchJob('report', [benchStep('send', ['true'])], ['build']), if: 'always()' },
  ];
  const options = { graceSeconds: 2, retryBackoff: { initialSeconds: 0.2, maxSeconds: 1 } };
  const save = async (name: string, workflowId: string) => {
    const file = path.join(out, `${name}-${label}.json`);
    if (existsSync(file)) throw new Error(`${file} exists; histories are never overwritten (pass another label)`);
    const history = await bench.client.workflow.getHandle(workflowId).fetchHistory();
    // The workflow id is kept with the history: replay needs it (child ids derive from it).
    const record = { workflowId, history: JSON.parse(historyToJSON(history)) as unknown };
    await writeFile(file, `${JSON.stringify(record)}\n`);
    console.log(`recorded ${path.basename(file)} (${history.events?.length} events)`);
  };
  try {
    const inline = await bench.runOnce(benchPipeline('replay-inline', jobs), options);
    const children = await bench.runOnce(benchPipeline('replay-children', jobs), { ...options, inlineEventBudget: 0 });
    const child = children.status.jobs.build?.workflowId;
    if (!child) throw new Error('the child-workflow run has no child id');
    const cancelled = await bench.runOnce(
      benchPipeline('replay-cancelled', [
        benchJob('long', [benchStep('sleep', ['sleep 600'])]),
        { ...benchJob('cleanup', [benchStep('tidy', ['sleep 1', 'echo tidied'])], ['long']), if: 'always()' },
        benchJob('after', [benchStep('never', ['true'])], ['long']),
      ]),
      options,
      async (handle, runId) => {
        while ((await docker.listContainers({ filters: { label: [`conveyor.run=${runId}`] } })).length === 0) {
          await delay(100);
        }
        await handle.cancel();
      },
    );
    await save('pipeline-run-inline', inline.runId);
    await save('pipeline-run-children', children.runId);
    await save('pipeline-job', child);
    await save('pipeline-run-cancelled', cancelled.runId);
  } finally {
    await bench.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
