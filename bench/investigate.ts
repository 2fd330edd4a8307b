/**
 * Time from a run's failure to a finished `RCA.md` (docs/investigations.md; target ≤ 10 s median), and how it
 * grows with the failing step's output: a few lines (the baseline), 1 MB, 10 MB and 100 MB. The frame reads the
 * step's log once, streaming it batch by batch through one scan for every check, so the time should grow with the
 * size, not fail on it.
 *
 * "Failure" is the moment the run's workflow knew its job had failed (it schedules `openIncident`, in the run's
 * history); "done" is the completion of `reportIncident` in the incident's history (RCA.md is written by then).
 * Both histories also give where the seconds went: the incident opened and started, then each stage's activity,
 * from scheduled to completed (the checks, in parallel, from the first scheduled to the last completed).
 *
 * Each case runs `--runs N` times (default 3) on fresh workers; the figure is the median, and the ratio is against
 * the baseline of the same run. Every incident is resolved and every run's log removed afterwards, so nothing is
 * left. Run: `npx tsx bench/investigate.ts [--runs N] [--max-mb 100]`.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { slug } from '../activities/names';
import { runOutcome } from '../client/runs';
import { incidentQuery, resolveUpdate } from '../workflows/investigation-messages';
import { benchJob, benchPipeline, benchStep, config, connectBench, median, ms } from './harness';

type Event = temporal.api.history.v1.IHistoryEvent;

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    console.error(`bench/investigate.ts: --${name} takes a whole number ≥ 1 (got '${process.argv[index + 1]}')`);
    process.exit(2);
  }
  return value;
}

const runs = flag('runs', Number(process.env.RUNS ?? 3));
const maxMegabytes = flag('max-mb', 100);

/** Lines of 100 bytes (99 characters and a newline) before the failure. */
const cases = [
  { name: 'a few lines', lines: 5, megabytes: 0 },
  { name: '1 MB of output', lines: 10_000, megabytes: 1 },
  { name: '10 MB of output', lines: 100_000, megabytes: 10 },
  { name: '100 MB of output', lines: 1_000_000, megabytes: 100 },
].filter((entry) => entry.megabytes <= maxMegabytes);

const stages = ['open', 'frame', 'hypothesise', 'checks', 'report'] as const;
type Stage = (typeof stages)[number];

const millis = (event: Event) => Number(event.eventTime!.seconds) * 1000 + (event.eventTime!.nanos ?? 0) / 1e6;

/** Each activity type's first scheduled and last completed time in a history. */
async function activityTimes(client: Client, workflowId: string) {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const byId = new Map(events.map((event) => [String(event.eventId), event]));
  const times = new Map<string, { scheduled: number; completed?: number }>();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const name = scheduled.activityType!.name!;
      if (!times.has(name)) times.set(name, { scheduled: millis(event) });
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const name = byId.get(String(completed.scheduledEventId))!.activityTaskScheduledEventAttributes!.activityType!
        .name!;
      times.get(name)!.completed = millis(event);
    }
  }
  return { times, started: millis(events[0]!) };
}

/** Failure → RCA.md, and the stages in between, from the run's and the incident's histories. */
async function profile(client: Client, runId: string, incidentId: string) {
  const run = await activityTimes(client, runId);
  const incident = await activityTimes(client, incidentId);
  const failedAt = run.times.get('openIncident')!.scheduled;
  const at = (name: string, edge: 'scheduled' | 'completed') => {
    const entry = incident.times.get(name);
    const value = entry?.[edge];
    if (value === undefined) throw new Error(`incident ${incidentId} has no ${edge} ${name}`);
    return value;
  };
  const spans: Record<Stage, number> = {
    open: at('frameFailure', 'scheduled') - failedAt,
    frame: at('frameFailure', 'completed') - at('frameFailure', 'scheduled'),
    hypothesise: at('planHypotheses', 'completed') - at('frameFailure', 'completed'),
    checks: at('checkHypothesis', 'completed') - at('planHypotheses', 'completed'),
    report: at('reportIncident', 'completed') - at('checkHypothesis', 'completed'),
  };
  return { total: at('reportIncident', 'completed') - failedAt, spans };
}

async function main(): Promise<void> {
  const bench = await connectBench();
  const results: { name: string; times: number[]; spans: Record<Stage, number[]> }[] = [];
  const runIds: string[] = [];
  try {
    for (const entry of cases) {
      const times: number[] = [];
      const spans = Object.fromEntries(stages.map((stage) => [stage, [] as number[]])) as Record<Stage, number[]>;
      for (let index = 0; index < runs; index += 1) {
        const model = benchPipeline(`bench-investigate-${Date.now()}-${index}`, [
          benchJob('build', [
            benchStep('main', [
              `yes "$(printf '%099d' 0)" | head -n ${entry.lines}`,
              'echo "error: the build broke" >&2',
              'exit 1',
            ]),
          ]),
        ]);
        const { runId } = await bench.runOnce(model, { graceSeconds: 2 }, async (handle) => {
          const status = await runOutcome(handle);
          if (!status.incident) throw new Error(`run ${handle.workflowId} opened no incident`);
          const incident = bench.client.workflow.getHandle(status.incident);
          const deadline = Date.now() + 15 * 60_000;
          for (;;) {
            const view = await incident.query(incidentQuery).catch(() => undefined);
            if (view?.stage === 'done' && view.reports.rca) break;
            if (Date.now() > deadline) throw new Error(`incident ${status.incident} did not report in 15 minutes`);
            await delay(100);
          }
          const measured = await profile(bench.client, handle.workflowId, status.incident);
          times.push(measured.total);
          for (const stage of stages) spans[stage].push(measured.spans[stage]);
          await incident.executeUpdate(resolveUpdate, { args: [{ cause: 'script_error', by: 'bench' }] });
          await incident.result();
        });
        runIds.push(runId);
        await removeRunLogs(runId);
      }
      results.push({ name: entry.name, times, spans });
      const breakdown = stages.map((stage) => `${stage} ${ms(median(spans[stage]))}`).join(', ');
      console.log(`${entry.name}: ${times.map(ms).join(', ')}  (medians: ${breakdown})`);
    }
  } finally {
    for (const runId of runIds) await removeRunLogs(runId);
    await bench.close();
  }
  const baseline = median(results[0]!.times);
  console.log(`\nfailure → RCA.md, median of ${runs} run(s) each (target ≤ 10 s):`);
  console.log(
    `  ${'output'.padEnd(18)} ${'median'.padStart(8)}  ratio  ${stages.map((s) => s.padStart(11)).join(' ')}`,
  );
  for (const { name, times, spans } of results) {
    const columns = stages.map((stage) => ms(median(spans[stage])).padStart(11)).join(' ');
    console.log(
      `  ${name.padEnd(18)} ${ms(median(times)).padStart(8)}  ×${(median(times) / baseline).toFixed(2)}  ${columns}`,
    );
  }
}

/** A bench run's logs (the harness's fs log store) are large — 100 MB of output is ~180 MB of records: removed. */
async function removeRunLogs(runId: string): Promise<void> {
  await rm(path.join(config.dataDir, 'runs', slug(runId)), { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
