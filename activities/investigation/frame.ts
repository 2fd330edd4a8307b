/**
 * The frame stage (docs/investigations.md, "Frame"; INC-020…023): facts about a run's failure, no guess at a cause
 * — the failing job and step, exit and reason, the log excerpt, the timeline, and what changed since the last
 * successful run of the same pipeline (definition, variables, input artifact digests), read from Temporal (the runs'
 * inputs and results) and the log store.
 */
import type { Client } from '@temporalio/client';
import { fetchRunInput, runOutcome } from '../../client/runs';
import { runLogPatterns } from '../../investigate/catalogue';
import { changeReachesFailure, diffDefinitions, diffInputs, diffVariables } from '../../investigate/changes';
import type { FailureFrame, TimelineEntry } from '../../investigate/incident';
import type { PipelineModel } from '../../pipeline/model';
import type { PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { failingJob } from '../../workflows/run-failure';
import type { LogStore } from '../log-store';
import { scanStepLog } from './log-search';

/** A job's input artifacts: what its dependencies stored, with digests. */
function inputsOf(model: PipelineModel, status: PipelineRunStatus, jobName: string | undefined) {
  const job = model.jobs.find((candidate) => candidate.name === jobName);
  if (!job) return [];
  const sources = (job.artifactsFrom ?? job.dependsOn).filter((name) => job.dependsOn.includes(name));
  return sources.flatMap((producer) =>
    Object.entries(status.jobs[producer]?.artifacts ?? {}).map(([name, artifact]) => ({
      job: producer,
      name,
      digest: artifact.digest,
    })),
  );
}

function timelineOf(runId: string, status: PipelineRunStatus): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ at: status.startedAt, what: `run ${runId} started` }];
  for (const [name, job] of Object.entries(status.jobs)) {
    if (job.startedAt) entries.push({ at: job.startedAt, what: `job ${name} started` });
    for (const step of job.steps) {
      if (step.finishedAt && step.status !== 'success' && step.status !== 'pending') {
        const exit = step.exitCode !== undefined ? ` exit ${step.exitCode}` : '';
        const attempts = step.attempts > 1 ? ` after ${step.attempts} attempts` : '';
        entries.push({ at: step.finishedAt, what: `step ${name}/${step.name} ${step.status}${exit}${attempts}` });
      }
    }
    if (job.finishedAt) {
      entries.push({ at: job.finishedAt, what: `job ${name} ${job.status}${job.reason ? ` (${job.reason})` : ''}` });
    }
  }
  if (status.finishedAt) entries.push({ at: status.finishedAt, what: `run ${status.status}` });
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}

/** The last run of `pipeline` that succeeded and started before `before`, from Temporal visibility. */
export async function lastGreenRun(
  client: Client,
  pipeline: string,
  before: string,
): Promise<{ runId: string; finishedAt?: string } | undefined> {
  const name = pipeline.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const query = `WorkflowType = 'pipelineRun' AND ConveyorPipeline = '${name}' AND ConveyorStatus = 'success'`;
  let best: { runId: string; started: string; finishedAt?: string } | undefined;
  for await (const execution of client.workflow.list({ query })) {
    const started = execution.startTime.toISOString();
    if (started >= before) continue;
    if (!best || started > best.started) {
      best = { runId: execution.workflowId, started, finishedAt: execution.closeTime?.toISOString() };
    }
  }
  return best && { runId: best.runId, finishedAt: best.finishedAt };
}

/** Frames a run's failure. `heartbeat` is called while the log is read. */
export async function frameRun(
  deps: { client: Client; logs: LogStore },
  runId: string,
  heartbeat: () => void = () => undefined,
): Promise<FailureFrame> {
  const { client, logs } = deps;
  const input = await fetchRunInput(client, runId);
  const status = await runOutcome(client.workflow.getHandle(runId));
  const failing = failingJob(status);
  const [jobName, job] = failing ?? [undefined, undefined];
  const stepState =
    job?.steps.find((step) => step.name === job.failedStep) ??
    job?.steps.find((step) => step.status === 'failed' || step.status === 'timed_out');
  const jobModel = input.pipeline.jobs.find((candidate) => candidate.name === jobName);
  const stepModel = jobModel?.steps.find((step) => step.name === stepState?.name);

  // The one pass over the failing step's log: the excerpt, and every check's pattern matches (docs/investigations.md).
  const scan = jobName
    ? await scanStepLog(
        logs,
        runId,
        { job: jobName, step: stepState?.name },
        { patterns: runLogPatterns, tailLines: 30, onBatch: heartbeat },
      )
    : undefined;
  const logExcerpt =
    scan && scan.tail.length > 0
      ? scan.tail
      : (stepState?.logTail ?? []).map((line) => ({
          ts: stepState?.finishedAt ?? status.startedAt,
          stream: 'stdout' as const,
          job: jobName ?? '',
          step: stepState?.name ?? '',
          attempt: stepState?.attempts ?? 1,
          line,
        }));

  const frame: FailureFrame = {
    runId,
    pipeline: input.pipeline.name,
    runStatus: status.status,
    startedAt: status.startedAt,
    finishedAt: status.finishedAt,
    job: jobName,
    step: stepState?.name,
    attempts: stepState?.attempts,
    jobAttempts: job?.attempts,
    exitCode: stepState?.exitCode ?? job?.exitCode,
    reason: stepState?.reason ?? job?.reason,
    message: stepState?.message ?? job?.message,
    image: stepModel?.image,
    timeoutSeconds: stepModel?.timeoutSeconds,
    memoryBytes: jobModel?.resources.memoryBytes,
    network: jobModel?.network,
    otherFailedJobs: Object.entries(status.jobs)
      .filter(([name, other]) => other.status === 'failed' && name !== jobName)
      .map(([name]) => name),
    logExcerpt,
    ...(scan && {
      logScan: {
        linesSearched: scan.linesSearched,
        charsSearched: scan.charsSearched,
        lastAttempt: scan.lastAttempt,
        patterns: scan.patterns,
      },
    }),
    timeline: timelineOf(runId, status),
    changes: [],
    retries: Object.entries(status.jobs).flatMap(([name, other]) => [
      ...((other.attempts ?? 1) > 1 ? [{ job: name, attempts: other.attempts! }] : []),
      ...other.steps
        .filter((step) => step.attempts > 1)
        .map((step) => ({ job: name, step: step.name, attempts: step.attempts })),
    ]),
    infrastructure: Object.entries(status.jobs)
      .filter(([, other]) => other.reason === 'infrastructure' || other.reason === 'terminated')
      .map(([name, other]) => `job ${name}: ${other.reason}: ${other.message ?? ''}`.trim()),
    inputs: inputsOf(input.pipeline, status, jobName),
  };

  const green = await lastGreenRun(client, input.pipeline.name, status.startedAt);
  if (green) {
    frame.lastGreen = green;
    const greenInput = await fetchRunInput(client, green.runId);
    const greenStatus = await runOutcome(client.workflow.getHandle(green.runId));
    const definition = diffDefinitions(greenInput.pipeline, input.pipeline).map((change) => ({
      ...change,
      reachesFailure: changeReachesFailure(change, input.pipeline, jobName, stepState?.name),
    }));
    const variables = diffVariables(greenInput.vars, input.vars).map((change) => ({ ...change, reachesFailure: true }));
    frame.changes = [
      ...definition,
      ...variables,
      ...diffInputs(inputsOf(greenInput.pipeline, greenStatus, jobName), frame.inputs),
    ];
  }
  return frame;
}
