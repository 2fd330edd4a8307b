/**
 * Records the histories that test/replay replays: one run of each workflow shape Conveyor has — a run with inline
 * jobs (a failure, a skip, a retry and an `always()` job; a failed pipeline is a Failed workflow), the same with
 * child-workflow jobs, one `pipelineJob` child, a run cancelled while a cleanup job (`if: always()`) runs, a run of
 * the run controls (a `fail_fast` matrix cancelling a running expansion, a job timeout, a whole-job retry,
 * `max_parallel`, a `network: egress` job) and a run that times out with child-workflow jobs and a cleanup job.
 *
 * Files are named `<shape>-<label>.json` (label: the first argument, default today's date) and never overwritten:
 * older histories are what prove that runs started by older code still replay, so keep them. Record new ones after
 * a change to a workflow's command sequence, behind `patched()`. Needs the embedded stack.
 * Run: `npx tsx scripts/record-histories.ts [label] [shape…]` (shapes: `basic`, `controls`, `timeout`; default all).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { benchJob, benchPipeline, benchStep, connectBench, docker } from '../bench/harness';
import type { RunOptions } from '../workflows/pipeline-run-messages';

async function main(): Promise<void> {
  const label = process.argv[2] ?? new Date().toISOString().slice(0, 10);
  const shapes = process.argv.length > 3 ? process.argv.slice(3) : ['basic', 'controls', 'timeout'];
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
    if (shapes.includes('controls')) await recordControls(bench, options, save);
    if (shapes.includes('timeout')) await recordTimeout(bench, options, save);
    if (!shapes.includes('basic')) return;
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

type Bench = Awaited<ReturnType<typeof connectBench>>;
type Save = (name: string, workflowId: string) => Promise<void>;

/** The run controls of docs/runs.md in one inline run. */
async function recordControls(bench: Bench, options: RunOptions, save: Save): Promise<void> {
  const strategy = { failFast: true };
  const expansion = (n: number, script: string) => ({
    ...benchJob(`test (n=${n})`, [benchStep('s', [script])]),
    baseName: 'test',
    matrix: { n },
    strategy,
  });
  const { runId } = await bench.runOnce(
    {
      ...benchPipeline('replay-controls', [
        expansion(1, 'sleep 1; exit 3'),
        expansion(2, 'sleep 600'),
        { ...benchJob('slow', [benchStep('s', ['sleep 600'])]), timeoutSeconds: 2 },
        { ...benchJob('retried', [benchStep('s', ['test "$CONVEYOR_JOB_ATTEMPT" -ge 2'])]), retryCount: 1 },
        { ...benchJob('online', [benchStep('s', ['true'])]), network: 'egress' as const },
        { ...benchJob('lenient', [{ ...benchStep('s', ['exit 4']), continueOnFailure: true }]) },
      ]),
      maxParallel: 5,
    },
    options,
  );
  await save('pipeline-run-controls', runId);
}

/** A run that times out, with child-workflow jobs and a cleanup job that still runs. */
async function recordTimeout(bench: Bench, options: RunOptions, save: Save): Promise<void> {
  const { runId } = await bench.runOnce(
    {
      ...benchPipeline('replay-timeout', [
        benchJob('long', [benchStep('sleep', ['sleep 600'])]),
        { ...benchJob('cleanup', [benchStep('tidy', ['echo tidied'])], ['long']), if: 'always()' },
        benchJob('after', [benchStep('never', ['true'])], ['long']),
      ]),
      timeoutSeconds: 3,
    },
    { ...options, inlineEventBudget: 0 },
  );
  await save('pipeline-run-timeout', runId);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
