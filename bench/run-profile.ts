/**
 * Where the milliseconds of a run go: one job of 20 sequential `true` steps and a chain of 10 one-step jobs run on
 * Conveyor's real workers (in this process), then read back from the run's Temporal history and from timings of
 * every Docker call the worker made (dockerode's prototypes are wrapped here, nothing in the product changes).
 *
 * Per step it prints the medians of: the activity waiting to be picked up (scheduled → started), the activity
 * itself (started → completed, and the Docker calls inside it), the activity's result waiting for a workflow task
 * (completed → workflow task started) and the workflow task itself (started → completed, which schedules the next
 * activity); and the worker's event-loop delay during the run. The same Docker calls made directly (create, start,
 * wait, remove) are timed in the same run as the baseline. Run: `npx tsx bench/run-profile.ts [rounds]`;
 * `npx tsx bench/run-profile.ts [rounds] dag` splits the critical path of run-overhead.ts's 50-job DAG instead.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import Docker from 'dockerode';
import type { JobModel } from '../pipeline/model';
import { defaultPayloadConverter } from '@temporalio/common';
import { benchJob, benchPipeline, benchStep, connectBench, docker, median, randomDag, rawJob } from './harness';

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

/**
 * The run's critical path, from its history: from the job whose step finished last back through, at each job, the
 * dependency that finished last. Per job on it: the gap from that dependency's result to this job's activity being
 * scheduled (server round trip and workflow task), dispatch and the activity itself.
 */
function criticalPath(events: Event[], jobs: JobModel[]) {
  const steps = new Map<string, { scheduled: number; started?: number; completed?: number }>();
  const jobOf = new Map<string, string>();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'runStep') {
      const payload = scheduled.input?.payloads?.[0];
      const job = payload ? defaultPayloadConverter.fromPayload<{ job: string }>(payload).job : '';
      jobOf.set(String(event.eventId), job);
      steps.set(job, { scheduled: millis(event) });
    }
    const started = event.activityTaskStartedEventAttributes;
    const startedJob = started && jobOf.get(String(started.scheduledEventId));
    if (startedJob) steps.get(startedJob)!.started = millis(event);
    const completed = event.activityTaskCompletedEventAttributes;
    const completedJob = completed && jobOf.get(String(completed.scheduledEventId));
    if (completedJob) steps.get(completedJob)!.completed = millis(event);
  }
  const byName = new Map(jobs.map((job) => [job.name, job]));
  const latest = (names: string[]) =>
    names.reduce<string | undefined>(
      (best, name) => (best && steps.get(best)!.completed! >= steps.get(name)!.completed! ? best : name),
      undefined,
    );
  const path = { jobs: 0, gap: 0, dispatch: 0, activity: 0, first: 0, last: 0 };
  let current = latest([...steps.keys()]);
  path.last = millis(events[events.length - 1]!) - steps.get(current!)!.completed!;
  while (current) {
    const step = steps.get(current)!;
    const dependency = latest(byName.get(current)!.dependsOn);
    path.jobs += 1;
    path.dispatch += step.started! - step.scheduled;
    path.activity += step.completed! - step.started!;
    if (dependency) path.gap += step.scheduled - steps.get(dependency)!.completed!;
    else path.first = step.scheduled - millis(events[0]!);
    current = dependency;
  }
  return path;
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
    if (process.argv[3] === 'dag') {
      await dagProfile(bench, rounds);
      return;
    }
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

/** The 50-job DAG of run-overhead.ts: where its critical path's time goes, against the same jobs made directly. */
async function dagProfile(bench: Awaited<ReturnType<typeof connectBench>>, rounds: number): Promise<void> {
  const jobs = randomDag(50, 2);
  await bench.runOnce(benchPipeline('warmup', jobs));
  const paths: ReturnType<typeof criticalPath>[] = [];
  const wall: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const run = await bench.runOnce(benchPipeline('profile', jobs));
    if (run.status.status !== 'success') throw new Error(`50-job DAG: run ${run.runId} ${run.status.status}`);
    wall.push(run.ms);
    const history = await bench.client.workflow.getHandle(run.runId).fetchHistory();
    paths.push(criticalPath((history.events ?? []) as Event[], jobs));
  }
  const of = (key: keyof (typeof paths)[number]) => paths.map((path) => path[key]);
  console.log(`50-job DAG: median of ${rounds} runs ${median(wall).toFixed(0)} ms`);
  console.log(` critical path (server clock), ${median(of('jobs'))} jobs, sums along it:`);
  console.log(row('run start → first activity scheduled', of('first')));
  console.log(row('dependency completed → activity scheduled', of('gap')));
  console.log(row('activity scheduled → started (dispatch)', of('dispatch')));
  console.log(row('activity started → completed', of('activity')));
  console.log(row('last activity completed → run closed', of('last')));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
