/**
 * Where the milliseconds of a run go: one job of 20 sequential `true` steps and a chain of 10 one-step jobs run on
 * Conveyor's real workers (in this process), then read back from the run's Temporal history and from timings of
 * every Docker call the worker made (dockerode's prototypes are wrapped here, nothing in the product changes).
 *
 * Per step it prints the medians of: the activity waiting to be picked up (scheduled → started), the activity
 * itself (started → completed, and the Docker calls inside it), the activity's result waiting for a workflow task
 * (completed → workflow task started) and the workflow task itself (started → completed, which schedules the next
 * activity); and the worker's event-loop delay during the run. The same Docker calls made directly (create, start,
 * wait, remove) are timed in the same run as the baseline. Run: `npx tsx bench/run-profile.ts [rounds]`.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import Docker from 'dockerode';
import type { JobModel } from '../pipeline/model';
import { benchJob, benchPipeline, benchStep, connectBench, docker, median, rawJob } from './harness';

type Event = temporal.api.history.v1.IHistoryEvent;

/** Durations of every call to the wrapped dockerode methods, by method. */
const dockerCalls = new Map<string, number[]>();

function wrap(target: object, owner: string, methods: string[]): void {
  const prototype = target as Record<string, (...args: unknown[]) => unknown>;
  for (const method of methods) {
    const original = prototype[method]!;
    prototype[method] = function (this: unknown, ...args: unknown[]) {
      const start = performance.now();
      const result = original.apply(this, args);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        void (result as Promise<unknown>).then(
          () => record(`${owner}.${method}`, performance.now() - start),
          () => record(`${owner}.${method} (error)`, performance.now() - start),
        );
      }
      return result;
    };
  }
}

function record(name: string, value: number): void {
  const list = dockerCalls.get(name) ?? [];
  list.push(value);
  dockerCalls.set(name, list);
}

wrap(Docker.prototype, 'docker', ['createContainer', 'createVolume']);
wrap(Object.getPrototypeOf(docker.getContainer('x')) as object, 'container', [
  'start',
  'wait',
  'remove',
  'inspect',
  'logs',
]);
wrap(Object.getPrototypeOf(docker.getVolume('x')) as object, 'volume', ['inspect', 'remove']);

const millis = (event: Event) => {
  const time = event.eventTime!;
  return Number(time.seconds) * 1000 + (time.nanos ?? 0) / 1e6;
};

/** Gaps between the events of each step activity of a run's history. */
function stepGaps(events: Event[]) {
  const gaps = {
    dispatch: [] as number[],
    activity: [] as number[],
    resultToTask: [] as number[],
    task: [] as number[],
  };
  const byId = new Map(events.map((event) => [String(event.eventId), event]));
  for (const [index, event] of events.entries()) {
    const completed = event.activityTaskCompletedEventAttributes;
    if (!completed) continue;
    const started = byId.get(String(completed.startedEventId))!;
    const scheduled = byId.get(String(completed.scheduledEventId))!;
    gaps.dispatch.push(millis(started) - millis(scheduled));
    gaps.activity.push(millis(event) - millis(started));
    const taskStarted = events.slice(index).find((e) => e.workflowTaskStartedEventAttributes);
    const taskCompleted = events.slice(index).find((e) => e.workflowTaskCompletedEventAttributes);
    if (taskStarted && taskCompleted) {
      gaps.resultToTask.push(millis(taskStarted) - millis(event));
      gaps.task.push(millis(taskCompleted) - millis(taskStarted));
    }
  }
  return gaps;
}

/** The raw baseline's Docker calls for one job, timed one by one. */
async function timedRawJob(job: JobModel, phases: Map<string, number[]>): Promise<void> {
  await rawJob(`raw-${randomUUID().slice(0, 8)}`, job, async (phase, body) => {
    const start = performance.now();
    const result = await body();
    phases.set(phase, [...(phases.get(phase) ?? []), performance.now() - start]);
    return result;
  });
}

function row(name: string, values: number[]): string {
  return `  ${name.padEnd(44)} ${median(values).toFixed(1).padStart(7)} ms  (n=${values.length})`;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const bench = await connectBench();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  try {
    const cases = [
      {
        name: '20 sequential steps in one job',
        jobs: [
          benchJob(
            'steps',
            Array.from({ length: 20 }, (_, i) => benchStep(`s${i}`, ['true'])),
          ),
        ],
      },
      {
        name: '10-job chain',
        jobs: Array.from({ length: 10 }, (_, i) =>
          benchJob(`c${i}`, [benchStep('run', ['true'])], i > 0 ? [`c${i - 1}`] : []),
        ),
      },
    ];
    await bench.runOnce(benchPipeline('warmup', cases[0]!.jobs));
    for (const { name, jobs } of cases) {
      dockerCalls.clear();
      loop.reset();
      loop.enable();
      const gaps = {
        dispatch: [] as number[],
        activity: [] as number[],
        resultToTask: [] as number[],
        task: [] as number[],
      };
      const wall: number[] = [];
      for (let round = 0; round < rounds; round += 1) {
        const run = await bench.runOnce(benchPipeline('profile', jobs));
        if (run.status.status !== 'success') throw new Error(`${name}: run ${run.runId} ${run.status.status}`);
        wall.push(run.ms);
        const history = await bench.client.workflow.getHandle(run.runId).fetchHistory();
        const runGaps = stepGaps((history.events ?? []) as Event[]);
        for (const key of Object.keys(gaps) as (keyof typeof gaps)[]) gaps[key].push(...runGaps[key]);
      }
      loop.disable();
      // A copy: the baseline's calls below go through the same wrapped methods.
      const conveyorDocker = new Map([...dockerCalls].map(([call, values]) => [call, [...values]]));
      const raw = new Map<string, number[]>();
      for (let round = 0; round < rounds; round += 1) for (const job of jobs) await timedRawJob(job, raw);
      console.log(`${name}: median of ${rounds} runs ${median(wall).toFixed(0)} ms`);
      console.log(' per step activity, from the run history (server clock):');
      console.log(row('activity scheduled → started (dispatch)', gaps.dispatch));
      console.log(row('activity started → completed', gaps.activity));
      console.log(row('activity completed → workflow task started', gaps.resultToTask));
      console.log(row('workflow task started → completed', gaps.task));
      console.log(' Docker calls made by the worker:');
      for (const [call, values] of [...conveyorDocker].sort()) console.log(row(call, values));
      console.log(' the same containers made directly (baseline):');
      for (const [call, values] of raw) console.log(row(call, values));
      console.log(
        ` worker event loop delay: p50 ${(loop.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`,
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
