/**
 * 20 concurrent jobs on this machine: a pipeline of 20 independent jobs, each a step that keeps a core busy for
 * a moment and then sleeps, run on Conveyor's real workers in this process. Prints whether every job succeeded,
 * the wall time against the longest single job (the ideal with unlimited cores), and the worker process's
 * resident memory: before the run, and the peak during it (sampled every 50 ms), median of several rounds.
 * Needs the embedded stack. Run: `npx tsx bench/concurrency.ts [rounds]`.
 */
import { benchJob, benchPipeline, benchStep, connectBench, median, ms } from './harness';

const jobs = Array.from({ length: 20 }, (_, index) =>
  benchJob(`job-${index}`, [
    // About 0.3 s of CPU, then 2 s of waiting: contention for the 2 cores plus many containers at once.
    benchStep('work', ['i=0; while [ $i -lt 30000 ]; do i=$((i + 1)); done', 'sleep 2', 'echo done']),
  ]),
);

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const bench = await connectBench();
  try {
    await bench.runOnce(benchPipeline('warmup', jobs.slice(0, 2)));
    const walls: number[] = [];
    const longest: number[] = [];
    const peaks: number[] = [];
    const before: number[] = [];
    let failures = 0;
    for (let round = 0; round < rounds; round += 1) {
      before.push(process.memoryUsage().rss);
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      const run = await bench.runOnce(benchPipeline('concurrency', jobs));
      clearInterval(sampler);
      peaks.push(peak);
      walls.push(run.ms);
      const durations = Object.values(run.status.jobs).map(
        (job) => Date.parse(job.finishedAt ?? '') - Date.parse(job.startedAt ?? ''),
      );
      longest.push(Math.max(...durations));
      failures += Object.values(run.status.jobs).filter((job) => job.status !== 'success').length;
    }
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
    console.log(`20 concurrent jobs, median of ${rounds} rounds`);
    console.log(`  jobs not successful: ${failures} of ${20 * rounds}`);
    console.log(
      `  wall time ${ms(median(walls))}, longest job ${ms(median(longest))}, ratio ${(median(walls) / median(longest)).toFixed(2)}`,
    );
    console.log(
      `  worker RSS before ${mib(median(before))}, peak ${mib(median(peaks))} (ratio ${(median(peaks) / median(before)).toFixed(2)})`,
    );
  } finally {
    await bench.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
