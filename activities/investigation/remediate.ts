/**
 * Remediation (docs/investigations.md, "Remediation"): the safe, reversible actions a policy may take for a root
 * cause — re-run the failed jobs of the run (the successful ones are taken over), or re-run the whole run with more
 * memory for the job that ran out of it. The new run's id is derived from the incident, so a retried or replayed
 * action starts it once.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { rerunInput, runStartOptions } from '../../client/run-control';
import type { RemediationAction } from '../../investigate/cause';
import type { ConveyorConfig } from '../../workers/config';

/** What a remediation did: the new run, in words for the timeline. */
export interface RemediationResult {
  runId: string;
  description: string;
}

/** The memory a job that ran out of it gets on its re-run: double, at least 256 MiB. */
export function raisedMemory(bytes: number | undefined): number {
  return Math.max(2 * (bytes ?? 0), 256 * 1024 * 1024);
}

/** Takes `action` for the failed run `runId` of incident `incidentId`, on `taskQueue`. */
export async function remediate(
  client: Client,
  config: ConveyorConfig,
  request: { incidentId: string; action: RemediationAction; runId: string; job?: string; taskQueue: string },
): Promise<RemediationResult> {
  const { action, runId } = request;
  if (action === 'none') throw new Error(`incident ${request.incidentId}: no action to take`);
  const input = await rerunInput(client, runId, { failedOnly: action === 'rerun_failed', trigger: 'remediation' });
  let description = `re-ran the failed jobs of ${runId}`;
  if (action === 'rerun_more_memory') {
    const job = input.pipeline.jobs.find((candidate) => candidate.name === request.job);
    if (!job) throw new Error(`incident ${request.incidentId}: run ${runId} has no job '${request.job ?? ''}'`);
    const before = job.resources.memoryBytes;
    const after = raisedMemory(before);
    input.pipeline = {
      ...input.pipeline,
      jobs: input.pipeline.jobs.map((candidate) =>
        candidate === job ? { ...candidate, resources: { ...candidate.resources, memoryBytes: after } } : candidate,
      ),
    };
    description = `re-ran ${runId} with job '${job.name}' memory ${mib(before)} → ${mib(after)}`;
  }
  const newRunId = `${request.incidentId}-remedy`;
  try {
    await client.workflow.start('pipelineRun', {
      ...runStartOptions(config, input, newRunId),
      taskQueue: request.taskQueue,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (error) {
    // Started by an earlier attempt of this activity: the action was taken once.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  return { runId: newRunId, description: `${description}: run ${newRunId}` };
}

function mib(bytes: number | undefined): string {
  return bytes ? `${Math.round(bytes / 1048576)} MiB` : 'no limit';
}
