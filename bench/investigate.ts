/**
 * Time from a run's failure to a finished `RCA.md` (docs/investigations.md; target ≤ 10 s median), and how it
 * grows with the failing step's output: a few lines (the baseline), 1 MB and 10 MB. The log search streams the
 * step's log batch by batch, so the time should grow with the size, not fail on it. Each case runs `RUNS` times
 * (default 3) on fresh workers; the figure is the median, and the ratio is against the baseline of the same run.
 * Every incident is resolved afterwards, so nothing is left running. Run: `npx tsx bench/investigate.ts`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { runOutcome } from '../client/runs';
import { incidentQuery, resolveUpdate } from '../workflows/investigation-messages';
import { benchJob, benchPipeline, benchStep, connectBench, median, ms } from './harness';

const runs = Number(process.env.RUNS ?? 3);

/** Lines of 100 bytes: `lines` × 100 B of output before the failure. */
const cases = [
  { name: 'a few lines', lines: 5 },
  { name: '1 MB of output', lines: 10_000 },
  { name: '10 MB of output', lines: 100_000 },
];

async function main(): Promise<void> {
  const bench = await connectBench();
  const results: { name: string; times: number[] }[] = [];
  try {
    for (const entry of cases) {
      const times: number[] = [];
      for (let index = 0; index < runs; index += 1) {
        const model = benchPipeline(`bench-investigate-${Date.now()}-${index}`, [
          benchJob('build', [
            benchStep('main', [
              // 99 characters and a newline per line.
              `i=0; while [ $i -lt ${entry.lines} ]; do printf '%099d\\n' $i; i=$((i+1)); done`,
              'echo "error: the build broke" >&2',
              'exit 1',
            ]),
          ]),
        ]);
        await bench.runOnce(model, { graceSeconds: 2 }, async (handle) => {
          const status = await runOutcome(handle);
          const failedAt = Date.now();
          if (!status.incident) throw new Error(`run ${handle.workflowId} opened no incident`);
          const incident = bench.client.workflow.getHandle(status.incident);
          for (;;) {
            const view = await incident.query(incidentQuery).catch(() => undefined);
            if (view?.stage === 'done' && view.reports.rca) break;
            await delay(50);
          }
          times.push(Date.now() - failedAt);
          await incident.executeUpdate(resolveUpdate, { args: [{ cause: 'script_error', by: 'bench' }] });
          await incident.result();
        });
      }
      results.push({ name: entry.name, times });
      console.log(`${entry.name}: ${times.map(ms).join(', ')}`);
    }
  } finally {
    await bench.close();
  }
  const baseline = median(results[0]!.times);
  console.log(`\nfailure → RCA.md, median of ${runs} runs each:`);
  for (const { name, times } of results) {
    console.log(`  ${name.padEnd(16)} ${ms(median(times)).padStart(8)}  ×${(median(times) / baseline).toFixed(2)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
