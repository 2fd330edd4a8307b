/**
 * A failed run as an incident signal (docs/investigations.md, "What starts an investigation"): the failing job,
 * its step and reason, and the fingerprint of its error lines. Pure, shared by the run workflow (which opens the
 * incident when a run fails) and the investigation's frame activity.
 */
import { failureFingerprint } from '../investigate/fingerprint';
import type { IncidentSignal } from '../investigate/incident';
import type { JobState, PipelineRunStatus } from './pipeline-run-messages';

/** The failing job of a run: the first failed one in declaration order that failed by itself. */
export function failingJob(status: PipelineRunStatus): [string, JobState] | undefined {
  const failed = Object.entries(status.jobs).filter(([, job]) => job.status === 'failed');
  return failed.find(([, job]) => job.reason !== 'upstream_failed') ?? failed[0];
}

/** The incident signal of a finished run (a failed one, or any run investigated on demand). */
export function runFailureSignal(runId: string, status: PipelineRunStatus, at: string): IncidentSignal {
  const failing = failingJob(status);
  const [job, state] = failing ?? [undefined, undefined];
  const step = state?.steps.find((candidate) => candidate.name === state.failedStep);
  const reason = step?.reason ?? state?.reason ?? (status.status === 'failed' ? 'unknown' : status.status);
  const { fingerprint, family } = failureFingerprint({
    pipeline: status.pipeline,
    job,
    step: step?.name,
    reason,
    tail: step?.logTail ?? [],
  });
  const where = job ? ` in job '${job}'${step ? ` step '${step.name}'` : ''}` : '';
  return {
    source: 'conveyor',
    kind: 'run',
    severity: 'warning',
    fingerprint,
    family,
    title: `pipeline '${status.pipeline}' ${status.status}${where} (${reason})`,
    labels: { pipeline: status.pipeline, ...(job ? { job } : {}), ...(step ? { step: step.name } : {}), reason },
    annotations: {},
    startsAt: status.finishedAt ?? at,
    links: [],
    subject: { run: runId },
  };
}
