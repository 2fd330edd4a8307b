/**
 * How a failed run hands itself to the investigation (docs/investigations.md): it opens an incident for its
 * failure, or joins the open one with the same fingerprint. Failing to do so is logged, never the run's failure.
 */
import { isCancellation, log, workflowInfo } from '@temporalio/workflow';
import type { IncidentSignal } from '../investigate/incident';
import { investigationActivities } from './activity-proxies';
import type { PipelineRunStatus } from './pipeline-run-messages';
import { runFailureSignal } from './run-failure';

/** Opens or joins the incident of a failed run; returns its id, or undefined when that could not be done. */
export async function openRunIncident(runId: string, status: PipelineRunStatus): Promise<string | undefined> {
  return openIncidentFor(runFailureSignal(runId, status, new Date().toISOString()));
}

/**
 * Opens or joins the incident of `signal` from a workflow (a failed run, a rollout that did not complete), on the
 * workflow's own task queue; returns its id, or undefined (logged) when that could not be done.
 */
export async function openIncidentFor(signal: IncidentSignal): Promise<string | undefined> {
  try {
    const opened = await investigationActivities().openIncident({
      signal,
      taskQueue: workflowInfo().taskQueue,
      investigate: true,
    });
    return opened.incidentId;
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.warn('could not open an incident', { subject: signal.subject, error: String(error) });
    return undefined;
  }
}
