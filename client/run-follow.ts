/**
 * Starting a run and following it to its end, for `conveyor run` and `conveyor rerun`: step output as it arrives,
 * the jobs' states, a notice when no worker picks the run up, reconnection across a restart of the Temporal server
 * or the worker, and Ctrl-C that asks before cancelling (docs/runs.md).
 */
import type { Client } from '@temporalio/client';
import { temporalUiUrl, type ConveyorConfig } from '../workers/config';
import type { PipelineRunInput, PipelineRunStatus } from '../workflows/pipeline-run-messages';
import { CliError } from './cli-error';
import { tickUntilClosed } from './follow-loop';
import { handleInterrupts } from './interrupt';
import { ReconnectingClient } from './reconnecting-client';
import { describeFailure, toJsonSummary } from './run-summary';
import { newRunId, startRunWorkflow } from './run-control';
import { RunView } from './run-view';
import { fetchRunStatus } from './runs';
import { unpolledQueues, describePollers, runTaskQueues, type TaskQueueNames } from './task-queue-pollers';
import { noWorkerMessage, watchForWorker } from './worker-check';

/** How `run` and `rerun` were asked to behave. */
export interface FollowFlags {
  detach?: boolean;
  json?: boolean;
}

/** A Temporal connection being opened for {@link startAndFollow}, and where its notices go. */
export interface RunConnection {
  temporal: Promise<ReconnectingClient>;
  notices: { target: (text: string) => void };
}

/**
 * Starts connecting to Temporal for a run, so that connecting overlaps the caller's own work (finding the work tree,
 * reading and checking the pipeline: docs/benchmarks.md). Hand it to {@link startAndFollow}, which reports its
 * error, or to {@link abandonConnection} when the command stops before that.
 */
export function connectForRun(config: ConveyorConfig): RunConnection {
  const notices = { target: (text: string) => void process.stderr.write(`conveyor: ${text}\n`) };
  const temporal = ReconnectingClient.connect(config, { notice: (text) => notices.target(text) });
  temporal.catch(() => undefined);
  return { temporal, notices };
}

/** Closes a connection from {@link connectForRun} that {@link startAndFollow} never received. */
export async function abandonConnection(connection: RunConnection): Promise<void> {
  await connection.temporal.then(
    (temporal) => temporal.close(),
    () => undefined,
  );
}

/** Starts a run and, unless detached, follows it to its end; returns the final status. */
export async function startAndFollow(
  config: ConveyorConfig,
  input: PipelineRunInput,
  flags: FollowFlags,
  connection: RunConnection = connectForRun(config),
): Promise<PipelineRunStatus | undefined> {
  // With --json, stdout carries only the JSON summary; everything for humans goes to stderr.
  const human = flags.json ? process.stderr : process.stdout;
  let view: RunView | undefined;
  const notice = (text: string) =>
    view ? view.notice(`conveyor: ${text}`) : process.stderr.write(`conveyor: ${text}\n`);
  connection.notices.target = notice;
  const temporal = await connection.temporal;
  const runId = newRunId(input.pipeline.name);
  try {
    await temporal.call((client) => startRunWorkflow(client, config, runId, input));
    human.write(`run ${runId} started (${temporalUiUrl(config, runId)})\n`);
    const queues = runTaskQueues(config, input.pipeline.jobs);
    if (flags.detach) {
      await warnWithoutWorkers(temporal.client, config, queues, notice);
      if (flags.json) console.log(JSON.stringify({ runId, status: 'running' }));
      return undefined;
    }
    // The log store (and its S3 client) loads while the worker starts the first step, not before the run starts.
    const { createLogStoreFromConfig } = await import('../workers/stores.js');
    view = new RunView(
      {
        runId,
        logs: createLogStoreFromConfig(config),
        status: () => fetchRunStatus(temporal.client, runId),
      },
      { write: (text) => human.write(text), live: Boolean(human.isTTY) && !process.env.CI, columns: human.columns },
    );
    const status = await follow(temporal, config, runId, view, queues);
    if (status.status === 'success') {
      human.write(`run ${runId} succeeded (${temporalUiUrl(config, runId)})\n`);
    } else {
      process.stderr.write(`conveyor: run ${runId} ${status.status}: ${describeFailure(status)}\n`);
      if (status.incident)
        process.stderr.write(`conveyor: investigating: conveyor incidents show ${status.incident} -f\n`);
    }
    if (flags.json) console.log(JSON.stringify(toJsonSummary(runId, status)));
    return status;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      `stopped following run ${runId}: ${(error as Error).message}; see 'conveyor status ${runId}' for where it is`,
    );
  } finally {
    await temporal.close();
  }
}

/** For a detached run: one look at the task queues, and a notice when no live worker polls them. */
async function warnWithoutWorkers(
  client: Client,
  config: ConveyorConfig,
  names: TaskQueueNames,
  notice: (text: string) => void,
) {
  const queues = await describePollers(client.connection, config.temporal.namespace, names).catch(() => undefined);
  const unpolled = queues ? unpolledQueues(queues, Date.now()) : [];
  if (unpolled.length > 0) notice(noWorkerMessage(unpolled, config.temporal.address, Date.now()));
}

/** Follows a started run until it closes; Ctrl-C asks whether to cancel it. Returns the final status. */
async function follow(
  temporal: ReconnectingClient,
  config: ConveyorConfig,
  runId: string,
  view: RunView,
  queues: TaskQueueNames,
): Promise<PipelineRunStatus> {
  const stopWatching = new AbortController();
  const removeInterruptHandler = handleInterrupts({
    runId,
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    hold: () => view.hold(),
    resume: () => view.resume(),
    cancel: () => temporal.call((client) => client.workflow.getHandle(runId).cancel()).then(() => undefined),
    leave: (code) => process.exit(code),
  });
  const workerWatch = watchForWorker(
    {
      client: () => temporal.client,
      namespace: config.temporal.namespace,
      address: config.temporal.address,
      queues,
      runId,
      notice: (text) => view.notice(`conveyor: ${text}`),
    },
    stopWatching.signal,
  );
  try {
    await tickUntilClosed(
      temporal,
      runId,
      () => view.poll(),
      // Faster until the first line arrives: it is what a user waits for after typing `conveyor run`.
      () => (view.sawOutput ? 200 : 25),
    );
    stopWatching.abort();
    await workerWatch;
    const final = await temporal.call((client) => fetchRunStatus(client, runId));
    await view.finish(final);
    return final;
  } finally {
    stopWatching.abort();
    removeInterruptHandler();
  }
}
