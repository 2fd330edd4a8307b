/**
 * A 2,000-job pipeline (random DAG, up to 3 dependencies per job, one `true` step each) run to completion on
 * Conveyor's real workers — once with every job as a child workflow (what Conveyor picks at this size), and once
 * with every job inline in the run's own workflow, to show what the choice buys: the run's history event count,
 * the children's, and the wall time. Needs the embedded stack.
 * Run: `npx tsx bench/large-pipeline.ts [jobs] [modes]` where modes is `child,inline` (default both).
 */
import { estimatedInlineEvents } from '../workflows/job-placement';
import { benchPipeline, connectBench, median, ms, randomDag } from './harness';

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 2000);
  const modes = (process.argv[3] ?? 'child,inline').split(',');
  const bench = await connectBench();
  const jobs = randomDag(size, 3, 11);
  console.log(`${size}-job pipeline: ${estimatedInlineEvents(jobs)} estimated inline events (inline up to 10,000)`);
  try {
    for (const mode of modes) {
      const options = { graceSeconds: 2, inlineEventBudget: mode === 'inline' ? Number.MAX_SAFE_INTEGER : 0 };
      const run = await bench.runOnce(benchPipeline('large', jobs), options);
      const statuses = Object.values(run.status.jobs);
      const ok = statuses.filter((job) => job.status === 'success').length;
      const parent = await bench.client.workflow.getHandle(run.runId).describe();
      let children = 'none';
      if (mode === 'child') {
        const sample = statuses.filter((job) => job.workflowId).slice(0, 25);
        const lengths = await Promise.all(
          sample.map(async (job) => (await bench.client.workflow.getHandle(job.workflowId!).describe()).historyLength),
        );
        children = `${statuses.length} children, median ${median(lengths)} events each (sample of ${sample.length})`;
      }
      console.log(
        `  ${mode.padEnd(6)} ${run.status.status}, ${ok}/${size} jobs succeeded in ${ms(run.ms)}; ` +
          `run history ${parent.historyLength} events (${(parent.historyLength / size).toFixed(1)} per job); ${children}`,
      );
    }
  } finally {
    await bench.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
