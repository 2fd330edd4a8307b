/** Running a pipeline model on the real dev server with real workers, for workflow tests. */
import { setTimeout as delay } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { runOutcome } from '../../client/runs';
import type { RegistriesSettings } from '../../config/registries';
import type { PipelineModel } from '../../pipeline/model';
import type { PipelineRunStatus, RunOptions } from '../../workflows/pipeline-run-messages';
import { docker, testEnvironment, uniqueTaskQueue, withWorkers } from './temporal';

/** Options fast enough for tests: a 2 s grace period and sub-second retry backoff. */
export const fastOptions: RunOptions = { graceSeconds: 2, retryBackoff: { initialSeconds: 0.2, maxSeconds: 1 } };

/** Jobs inline in the run's workflow (small runs), or each in a child workflow (large runs): both paths. */
export const jobModes: ReadonlyArray<{ mode: string; runOptions: RunOptions }> = [
  { mode: 'inline jobs', runOptions: fastOptions },
  { mode: 'child-workflow jobs', runOptions: { ...fastOptions, inlineEventBudget: 0 } },
];

/** What a test run may vary: variables, the workers' secrets and registry credentials, the run's options. */
export interface RunPipelineOptions {
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  registries?: () => RegistriesSettings | undefined;
  runOptions?: RunOptions;
}

/**
 * Starts `model` on a fresh task queue and runs `body` with its handle while real workers serve it; the workers
 * stop when `body` is done.
 */
export async function withRun<T>(
  model: PipelineModel,
  body: (handle: WorkflowHandle, runId: string) => Promise<T>,
  options: RunPipelineOptions = {},
): Promise<T> {
  const env = await testEnvironment();
  const taskQueue = uniqueTaskQueue(model.name);
  const runId = `run-test-${taskQueue}`;
  return withWorkers(
    taskQueue,
    async () => {
      const handle = await env.client.workflow.start('pipelineRun', {
        taskQueue,
        workflowId: runId,
        args: [
          { pipeline: model, vars: options.vars ?? {}, trigger: 'test', options: options.runOptions ?? fastOptions },
        ],
      });
      return body(handle, runId);
    },
    { secrets: options.secrets, registries: options.registries },
  );
}

/** Runs `model` to its end on a fresh task queue and returns the run id and final status. */
export async function runPipeline(
  model: PipelineModel,
  options: RunPipelineOptions = {},
): Promise<{ runId: string; status: PipelineRunStatus }> {
  return withRun(model, async (handle, runId) => ({ runId, status: await runResult(handle) }), options);
}

/** `job: status[:reason]` for every job of a run, for one-glance assertions on outcomes. */
export function jobSummary(jobs: Record<string, { status: string; reason?: string }>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(jobs).map(([name, state]) => [name, `${state.status}${state.reason ? `:${state.reason}` : ''}`]),
  );
}

/** Whether two jobs of a run were running at the same moment. */
export function overlapped(status: PipelineRunStatus, a: string, b: string): boolean {
  const [x, y] = [status.jobs[a], status.jobs[b]];
  if (!x?.startedAt || !x.finishedAt || !y?.startedAt || !y.finishedAt) return false;
  return x.startedAt < y.finishedAt && y.startedAt < x.finishedAt;
}

/** The final status of a run once it has ended, whether it succeeded or its pipeline failed (a Failed workflow). */
export function runResult(handle: WorkflowHandle): Promise<PipelineRunStatus> {
  return runOutcome(handle);
}

/** Waits until a container of the run whose step label is `stepName` is running; returns its id. */
export async function waitForRunningStep(runId: string, stepName: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const containers = await docker.listContainers({
      filters: { label: [`conveyor.run=${runId}`, `conveyor.step=${stepName}`], status: ['running'] },
    });
    if (containers[0]) return containers[0].Id;
    await delay(100);
  }
  throw new Error(`step ${stepName} of ${runId} never started`);
}

/** Waits until a container has printed `text` (up to `timeoutMs`, default 60 s). */
export async function waitForContainerOutput(containerId: string, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const output = await docker.getContainer(containerId).logs({ stdout: true, stderr: true });
    if (output.toString('utf8').includes(text)) return;
    await delay(100);
  }
  throw new Error(`container ${containerId} never printed '${text}'`);
}
