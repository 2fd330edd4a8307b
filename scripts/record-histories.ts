/**
 * Records the histories that test/replay replays: one run of each workflow shape Conveyor has (a run with
 * inline jobs, including a failure, a skip, a retry and an `always()` job; a run with child-workflow jobs; one
 * `pipelineJob` child). Re-record after a deliberate change to a workflow's command sequence that is *not* behind
 * `patched()` — and only then, since old histories are what prove running workflows can still replay.
 * Needs the embedded stack. Run: `npx tsx scripts/record-histories.ts`.
 */
import { writeFile } from 'node:fs/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import path from 'node:path';
import { benchJob, benchPipeline, benchStep, connectBench } from '../bench/harness';

async function main(): Promise<void> {
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
  try {
    const inline = await bench.runOnce(benchPipeline('replay-inline', jobs), options);
    const children = await bench.runOnce(benchPipeline('replay-children', jobs), { ...options, inlineEventBudget: 0 });
    const child = children.status.jobs.build?.workflowId;
    if (!child) throw new Error('the child-workflow run has no child id');
    const save = async (name: string, workflowId: string) => {
      const history = await bench.client.workflow.getHandle(workflowId).fetchHistory();
      // The workflow id is kept with the history: replay needs it (child ids derive from it).
      const record = { workflowId, history: JSON.parse(historyToJSON(history)) as unknown };
      await writeFile(path.join(out, `${name}.json`), `${JSON.stringify(record)}\n`);
      console.log(`recorded ${name}.json (${history.events?.length} events)`);
    };
    await save('pipeline-run-inline', inline.runId);
    await save('pipeline-run-children', children.runId);
    await save('pipeline-job', child);
  } finally {
    await bench.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
