/**
 * Orchestration overhead: what Conveyor adds over starting the same containers directly with dockerode.
 *
 * 1. A 50-job random DAG of `true` steps run by Conveyor, against the same containers (same image, limits,
 *    security options and workspace volume per job) started with dockerode in the same dependency order, each
 *    job as soon as its dependencies are done. Ratio of medians (target ≤ 1.3).
 * 2. Per-step overhead: one job of 20 sequential `true` steps, against 20 sequential raw containers; the
 *    difference of medians divided by 20 (target ≤ 50 ms).
 * 3. Per-job overhead on the critical path: a chain of 10 one-step jobs, against 10 sequential raw containers.
 *
 * Runs alternate between Conveyor and the baseline so both see the same machine. Needs the embedded stack
 * (`conveyor dev up`). Run: `npx tsx bench/run-overhead.ts [rounds]`.
 */
import { randomUUID } from 'node:crypto';
import type { JobModel } from '../pipeline/model';
import { benchJob, benchPipeline, benchStep, connectBench, median, ms, randomDag, rawJob, timed } from './harness';

/** The baseline: every job as soon as its dependencies finished, no limit, like the run workflow. */
async function rawDag(jobs: JobModel[]): Promise<void> {
  const runId = `raw-${randomUUID().slice(0, 8)}`;
  const done = new Map<string, Promise<void>>();
  for (const job of jobs) {
    done.set(
      job.name,
      Promise.all(job.dependsOn.map((name) => done.get(name))).then(() => rawJob(runId, job)),
    );
  }
  await Promise.all(done.values());
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const bench = await connectBench();
  try {
    const dag = randomDag(50, 2);
    const sequentialSteps = [
      benchJob(
        'steps',
        Array.from({ length: 20 }, (_, i) => benchStep(`s${i}`, ['true'])),
      ),
    ];
    const chain = Array.from({ length: 10 }, (_, i) =>
      benchJob(`c${i}`, [benchStep('run', ['true'])], i > 0 ? [`c${i - 1}`] : []),
    );
    const cases = [
      { name: '50-job DAG', jobs: dag, divisor: 1 },
      { name: '20 sequential steps in one job', jobs: sequentialSteps, divisor: 20 },
      { name: '10-job chain', jobs: chain, divisor: 10 },
    ];

    // One warm-up of each, not counted: image layers, the worker's caches.
    for (const { jobs } of cases) {
      await bench.runOnce(benchPipeline('warmup', jobs));
      await rawDag(jobs);
    }

    console.log(`orchestration overhead, median of ${rounds} rounds (Conveyor vs the same containers via dockerode)`);
    for (const { name, jobs, divisor } of cases) {
      const conveyor: number[] = [];
      const raw: number[] = [];
      for (let round = 0; round < rounds; round += 1) {
        const run = await bench.runOnce(benchPipeline('overhead', jobs));
        if (run.status.status !== 'success') throw new Error(`${name}: run ${run.runId} ${run.status.status}`);
        conveyor.push(run.ms);
        raw.push(await timed(() => rawDag(jobs)));
      }
      const [c, r] = [median(conveyor), median(raw)];
      const perUnit =
        divisor > 1 ? `, overhead per ${name.includes('chain') ? 'job' : 'step'}: ${ms((c - r) / divisor)}` : '';
      console.log(
        `  ${name.padEnd(32)} conveyor ${ms(c).padStart(8)}  raw ${ms(r).padStart(8)}  ratio ${(c / r).toFixed(2)}${perUnit}`,
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
