/**
 * `pipelineRun`: one run of a pipeline, walking its job DAG (DESIGN.md §5).
 *
 * A job starts the moment all its dependencies have finished and its condition holds (no level barriers), within
 * the run's parallelism limit; a failure skips its dependents transitively while independent branches finish.
 * Steps run through the `runStep` activity on the Docker task queue; the workflow keeps only ids, exit codes and
 * short log tails. Every container, volume and network of the run is removed in a non-cancellable scope at the end.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { JobModel } from '../pipeline/model';
import type { createDockerResourceActivities } from '../activities/docker-resources';
import { runJob } from './job';
import {
  statusQuery,
  type JobState,
  type PipelineRunInput,
  type PipelineRunStatus,
  type RunStatus,
} from './pipeline-run-messages';
import { statusKey } from './search-attributes';
import { createReadySet, decideReadyJob } from './scheduling';

type ResourceActivities = ReturnType<typeof createDockerResourceActivities>;

/** Runs a pipeline to completion and returns every job's outcome. */
export async function pipelineRun(input: PipelineRunInput): Promise<PipelineRunStatus> {
  const { pipeline } = input;
  const runId = workflowInfo().workflowId;
  const dockerQueue = `${workflowInfo().taskQueue}-docker`;
  const resources = proxyActivities<ResourceActivities>({
    taskQueue: dockerQueue,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  });

  const status: PipelineRunStatus = {
    pipeline: pipeline.name,
    status: 'running',
    startedAt: new Date().toISOString(),
    jobs: Object.fromEntries(pipeline.jobs.map((job) => [job.name, { status: 'pending', steps: [] } as JobState])),
  };
  setHandler(statusQuery, () => status);
  const setRunStatus = (value: RunStatus) => {
    status.status = value;
    upsertSearchAttributes([{ key: statusKey, value }]);
  };
  setRunStatus('running');

  let runTimedOut = false;
  const main = new CancellationScope();
  const runTimer = new CancellationScope();
  void runTimer
    .run(() => sleep(pipeline.timeoutSeconds * 1000))
    .then(
      () => {
        runTimedOut = true;
        main.cancel();
      },
      () => undefined,
    );

  try {
    await main.run(async () => {
      const needsNetwork = pipeline.jobs.some((job) => job.network === 'isolated');
      const networkName = needsNetwork ? await resources.ensureRunNetwork({ runId }) : undefined;
      await walkDag(input, status, networkName, dockerQueue, resources);
    });
  } catch (error) {
    if (!isCancellation(error)) throw error;
    for (const job of Object.values(status.jobs)) {
      if (job.status === 'pending' || job.status === 'running' || job.status === 'retrying') {
        job.status = 'cancelled';
        if (runTimedOut) job.reason = 'run_timed_out';
      }
    }
  } finally {
    runTimer.cancel();
    // Cleanup must happen even when the run was cancelled.
    await CancellationScope.nonCancellable(() => resources.cleanupRun({ runId }));
  }

  const jobs = Object.values(status.jobs);
  status.finishedAt = new Date().toISOString();
  if (jobs.some((job) => job.status === 'failed') || runTimedOut) setRunStatus('failed');
  else if (jobs.some((job) => job.status === 'cancelled')) setRunStatus('cancelled');
  else setRunStatus('success');
  return status;
}

async function walkDag(
  input: PipelineRunInput,
  status: PipelineRunStatus,
  networkName: string | undefined,
  dockerQueue: string,
  resources: ResourceActivities,
): Promise<void> {
  const jobsByName = new Map<string, JobModel>(input.pipeline.jobs.map((job) => [job.name, job]));
  const ready = createReadySet(input.pipeline.jobs);
  const limit = input.pipeline.maxParallel ?? Number.POSITIVE_INFINITY;
  const running = new Map<string, Promise<string>>();
  const waiting: string[] = [];

  const settle = (name: string) => {
    for (const next of ready.complete(name)) waiting.push(next);
  };
  for (const name of ready.initial()) waiting.push(name);

  while (waiting.length > 0 || running.size > 0) {
    // Decide every job whose dependencies have all finished: run, or skip (and settle its dependents at once).
    for (let index = 0; index < waiting.length;) {
      const name = waiting[index]!;
      const job = jobsByName.get(name)!;
      const decision = decideReadyJob(job, status.jobs);
      if (decision === 'run' && running.size >= limit) {
        index += 1;
        continue;
      }
      waiting.splice(index, 1);
      if (decision === 'run') {
        const jobState = status.jobs[name]!;
        running.set(
          name,
          runJob({
            job,
            state: jobState,
            runId: workflowInfo().workflowId,
            input,
            networkName,
            dockerQueue,
            resources,
          }).then(() => name),
        );
      } else {
        status.jobs[name] = { status: 'skipped', reason: decision, steps: status.jobs[name]!.steps };
        settle(name);
      }
    }
    if (running.size === 0) continue;
    const finished = await Promise.race(running.values());
    running.delete(finished);
    settle(finished);
  }
}
