/**
 * What the run benchmarks share: statistics, a Temporal connection to the embedded stack, Conveyor's real workers
 * on a fresh task queue, and generated pipeline models. Benchmarks print figures; they never assert on timing.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import Docker from 'dockerode';
import { stepContainerOptions } from '../activities/docker-step-container';
import { createFsLogStore } from '../activities/log-store';
import { workspaceVolumeName } from '../activities/names';
import { runOutcome } from '../client/runs';
import type { JobModel, PipelineModel, StepModel } from '../pipeline/model';
import { job, pipeline, step } from '../test/helpers/models';
import { seededRandom } from '../test/helpers/seeded-random';
import { loadConfig } from '../workers/config';
import { withConveyorWorkers } from '../workers/create-workers';
import { statusQuery, type PipelineRunStatus, type RunOptions } from '../workflows/pipeline-run-messages';

Runtime.install({ logger: new DefaultLogger('ERROR') });

export const config = loadConfig();
export const docker = new Docker();

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Milliseconds `body` takes. */
export async function timed(body: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await body();
  return performance.now() - start;
}

/** A one-step job with `dependsOn`, as the parser would produce it, on no network. */
export function benchJob(name: string, steps: StepModel[], dependsOn: string[] = []): JobModel {
  return job(name, steps, { dependsOn, timeoutSeconds: 3600 });
}

/** A random DAG of `size` jobs, each depending on up to `fanIn` earlier jobs, one `true` step each. */
export function randomDag(size: number, fanIn: number, seed = 7): JobModel[] {
  const next = seededRandom(seed);
  return Array.from({ length: size }, (_, index) => {
    const dependsOn = new Set<string>();
    for (let i = 0; i < fanIn && index > 0; i += 1) dependsOn.add(`job-${Math.floor(next() * index)}`);
    return benchJob(`job-${index}`, [step('run', ['true'])], [...dependsOn]);
  });
}

/** A pipeline model with a run timeout long enough for any benchmark. */
export function benchPipeline(name: string, jobs: JobModel[]): PipelineModel {
  return pipeline(name, jobs, { timeoutSeconds: 7200 });
}

/** A connection to the stack and a way to run pipelines on Conveyor's real workers. */
export async function connectBench() {
  const connection = await Connection.connect({ address: config.temporal.address });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../workflows'),
    logger: new DefaultLogger('ERROR'),
  });
  const logs = createFsLogStore(path.join(config.dataDir, 'runs'));

  /**
   * Runs `model` with workers on a fresh task queue; returns its id, status and wall time. `during` may act on the
   * run while it runs (cancel it, …).
   */
  async function runOnce(
    model: PipelineModel,
    options: RunOptions = { graceSeconds: 2 },
    during?: (handle: WorkflowHandle, runId: string) => Promise<void>,
  ): Promise<{ runId: string; status: PipelineRunStatus; ms: number }> {
    const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
    const runId = `run-bench-${taskQueue}`;
    let status: PipelineRunStatus | undefined;
    const ms = await withConveyorWorkers(
      {
        connection: nativeConnection,
        namespace: config.temporal.namespace,
        taskQueue,
        docker,
        logs,
        workflowBundle,
        client,
      },
      () =>
        timed(async () => {
          const handle = await client.workflow.start('pipelineRun', {
            taskQueue,
            workflowId: runId,
            args: [{ pipeline: model, vars: {}, trigger: 'bench', options }],
          });
          await during?.(handle, runId);
          // A cancelled run has no result: its final state comes from the status query.
          status = await runOutcome(handle).catch(() => handle.query(statusQuery));
        }),
    );
    return { runId, status: status!, ms };
  }

  async function close(): Promise<void> {
    await connection.close();
    await nativeConnection.close();
  }

  return { client, runOnce, close };
}

/** Formats milliseconds for a report. */
export function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(0)} ms`;
}

/** A step running `script` on the busybox image. */
export const benchStep = step;

/** Times one phase of a raw job (`create`, `start`, `wait`, `remove`, `volume remove`); by default times nothing. */
export type PhaseTimer = <T>(phase: string, body: () => Promise<T>) => Promise<T>;

/**
 * The baseline of the run benchmarks: one job's steps as raw containers (the same options as Conveyor's), each
 * created, started, waited for and removed in turn; then the job's volume is removed.
 */
export async function rawJob(runId: string, job: JobModel, time: PhaseTimer = (_phase, body) => body()): Promise<void> {
  const workspaceVolume = workspaceVolumeName(runId, job.name);
  for (const [index, step] of job.steps.entries()) {
    const input = {
      runId,
      job: job.name,
      step: step.name,
      attempt: 1,
      image: step.image,
      script: step.script,
      environment: {},
      workingDirectory: step.workingDirectory,
      system: { CONVEYOR_RUN_ID: runId },
      timeoutSeconds: step.timeoutSeconds,
      graceSeconds: 2,
      resources: job.resources,
      networkMode: 'none',
    };
    const container = await time('create', () =>
      docker.createContainer(stepContainerOptions(`${workspaceVolume}-${index}`, input, step, workspaceVolume)),
    );
    await time('start', () => container.start());
    const { StatusCode } = (await time('wait', () => container.wait())) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`raw step exited ${StatusCode}`);
    await time('remove', () => container.remove({ force: true }));
  }
  await time('volume remove', () => docker.getVolume(workspaceVolume).remove());
}
