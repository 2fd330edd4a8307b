/**
 * Scale-out throughput (docs/operations.md, "Many worker hosts"): jobs per minute of a run of independent one-step
 * jobs (`true` on busybox, no network) on 1, 2 and 4 worker processes on this machine, each with its own data
 * directory, all on one Temporal server and one store. Prints the median over several runs per worker count, the
 * ratio against one worker, and the Temporal server's share of the machine's CPU time during the runs (from
 * /proc). Needs the embedded stack (`conveyor dev up`). Run: `npx tsx bench/scale-out.ts [--jobs 40] [--runs 3]`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parsePipeline } from '../pipeline/parse-pipeline';
import { startWorkerProcess, type WorkerProcess } from '../test/helpers/worker-process';
import { config, connectBench, median } from './harness';
import { runOutcome } from '../client/runs';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '40' }, runs: { type: 'string', default: '3' } },
});
const jobCount = Number(values.jobs);
const runs = Number(values.runs);
const workerCounts = [1, 2, 4];

/** Total CPU ticks of the machine, and of one process (utime + stime), from /proc. */
async function cpuTicks(pid: number | undefined): Promise<{ machine: number; process: number }> {
  const stat = await readFile('/proc/stat', 'utf8');
  const machine = stat
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .reduce((sum, value) => sum + Number(value), 0);
  if (pid === undefined) return { machine, process: 0 };
  const own = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = own.slice(own.lastIndexOf(')') + 2).split(' ');
  return { machine, process: Number(fields[11] ?? 0) + Number(fields[12] ?? 0) };
}

async function temporalPid(): Promise<number | undefined> {
  const record = await readFile(path.join(config.dataDir, 'pids', 'temporal.pid'), 'utf8').catch(() => undefined);
  return record ? (JSON.parse(record) as { pid: number }).pid : undefined;
}

async function main(): Promise<void> {
  const bench = await connectBench();
  const scratch = await mkdtemp(path.join(tmpdir(), 'conveyor-bench-scale-'));
  const pid = await temporalPid();
  const lines = Array.from(
    { length: jobCount },
    (_, index) =>
      `  job-${index}: {network: none, steps: [{name: s, image: "conveyor/busybox:latest", script: ["true"]}]}`,
  );
  const parsed = parsePipeline(`name: scale-out\njobs:\n${lines.join('\n')}\n`, {
    defaultImage: 'conveyor/busybox:latest',
  });
  if (!parsed.valid) throw new Error(parsed.errors.map((error) => error.message).join('; '));
  const input = { pipeline: parsed.pipeline, vars: {}, trigger: 'bench', options: { graceSeconds: 2 } };
  const results: Array<{ workers: number; perMinute: number; temporalShare: number }> = [];
  try {
    for (const count of workerCounts) {
      const taskQueue = `bench-scale-${randomUUID().slice(0, 8)}`;
      const workers: WorkerProcess[] = [];
      try {
        for (let index = 0; index < count; index += 1) {
          workers.push(
            await startWorkerProcess(
              taskQueue,
              { CONVEYOR_DATA_DIR: path.join(scratch, `${count}-${index}`) },
              600_000,
            ),
          );
        }
        const rates: number[] = [];
        const shares: number[] = [];
        for (let run = 0; run < runs; run += 1) {
          const before = await cpuTicks(pid);
          const start = performance.now();
          const handle = await bench.client.workflow.start('pipelineRun', {
            taskQueue,
            workflowId: `bench-scale-${count}-${run}-${taskQueue}`,
            args: [input],
          });
          const status = await runOutcome(handle);
          const seconds = (performance.now() - start) / 1000;
          const after = await cpuTicks(pid);
          if (status.status !== 'success') throw new Error(`run with ${count} workers ended ${status.status}`);
          rates.push((jobCount / seconds) * 60);
          shares.push((after.process - before.process) / Math.max(1, after.machine - before.machine));
        }
        results.push({ workers: count, perMinute: median(rates), temporalShare: median(shares) });
        console.log(
          `${count} worker(s): ${median(rates).toFixed(0)} jobs/min (runs: ${rates.map((rate) => rate.toFixed(0)).join(', ')}), ` +
            `Temporal server ${(median(shares) * 100).toFixed(0)} % of the machine's CPU time`,
        );
      } finally {
        for (const worker of workers) await worker.stop().catch(() => undefined);
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await bench.close();
  }
  const base = results[0]!.perMinute;
  console.log(`\n${jobCount} one-step jobs per run, median of ${runs} runs per worker count`);
  console.log('| workers | jobs/min (median) | vs 1 worker | Temporal server CPU share |');
  console.log('| ------- | ----------------- | ----------- | ------------------------- |');
  for (const result of results) {
    console.log(
      `| ${result.workers} | ${result.perMinute.toFixed(0)} | ${(result.perMinute / base).toFixed(2)} | ${(result.temporalShare * 100).toFixed(0)} % |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
