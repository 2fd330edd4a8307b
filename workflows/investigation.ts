/**
 * `investigation`: one incident, `incident-<fingerprint>-<n>` (docs/investigations.md). It only orders the stages
 * and fans the checks out (DESIGN.md §8): frame → hypothesise → test every hypothesis in parallel → report, each an
 * activity with structured input and output whose results are recorded in history, so a worker crash resumes
 * where it stopped and never runs a finished check again. The incident stays open — later signals with its
 * fingerprint join it as occurrences — until a human resolves it with the confirmed cause.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import { causeNames } from '../investigate/catalogue';
import type { IncidentIndexEntry } from '../activities/investigation/records';
import type { RemediationAction } from '../investigate/cause';
import type { FailureFrame, IncidentSignal } from '../investigate/incident';
import type { IncidentNarrative } from '../investigate/narrative';
import { checkActivities, investigationActivities, narrativeActivities } from './activity-proxies';
import {
  incidentQuery,
  investigateSignal,
  occurrenceSignal,
  remediationSignal,
  remediationUpdate,
  resolveUpdate,
  type IncidentStatus,
  type RemediationDecision,
  type IncidentView,
  type InvestigationInput,
  type Resolution,
} from './investigation-messages';
import { incidentStatusKey } from './search-attributes';

/** The patch marker: before it, only failed runs were investigated (alerts and rollouts were only recorded). */
const subjectsPatch = 'investigate-deployments-and-alerts';
/** The patch marker: before it, remediation was only suggested in RCA.md. */
const remediationPatch = 'remediation-policy';
/**
 * The patch marker: before it, an incident investigated at once was indexed `open`, then `investigating`, each
 * awaited before the frame started — two activity round trips between the failure and the frame. Since, it is
 * indexed `investigating` alongside the frame (docs/investigations.md, "Speed").
 */
const indexAlongsidePatch = 'index-alongside-frame';
/**
 * The patch marker: before it, the report followed the checks directly. Since, the optional LLM narrative is asked
 * for between them (an activity, even when no endpoint is configured: it then answers at once with nothing).
 */
const narrativePatch = 'llm-narrative';

/** The most timeline entries an incident keeps (the count keeps counting). */
const maxTimeline = 200;

/** Investigates an incident, then waits for a human to resolve it; returns the final incident. */
export async function investigation(input: InvestigationInput): Promise<IncidentView> {
  const { signal } = input;
  const activities = investigationActivities();
  const checks = checkActivities();
  const view: IncidentView = {
    id: workflowInfo().workflowId,
    fingerprint: signal.fingerprint,
    family: signal.family,
    status: 'open',
    stage: 'waiting',
    source: signal.source,
    severity: signal.severity,
    title: signal.title,
    subject: signal.subject,
    pipeline: signal.labels.pipeline,
    count: 1,
    openedAt: signal.startsAt,
    timeline: [{ at: new Date().toISOString(), what: `opened: ${signal.title}` }],
    hypotheses: [],
    changes: [],
    similar: [],
    reports: {},
    actions: [],
  };
  const seen = new Set([subjectKey(signal.subject)]);
  let investigate = input.investigate;
  let resolution: Resolution | undefined;

  setHandler(incidentQuery, () => view);
  setHandler(occurrenceSignal, (occurrence) => {
    const key = subjectKey(occurrence.subject);
    // The same run reported twice (an on-demand investigation of a run already here) is not a new occurrence.
    if (seen.has(key) && occurrence.kind === 'run') return;
    seen.add(key);
    view.count += 1;
    if (view.timeline.length < maxTimeline) {
      view.timeline.push({ at: new Date().toISOString(), what: `occurred again: ${occurrence.title} (${key})` });
    }
  });
  let decision: RemediationDecision | undefined;
  setHandler(
    remediationUpdate,
    (request) => {
      decision = request;
      return view;
    },
    {
      validator: (_request: RemediationDecision) => {
        if (!view.pendingRemediation || decision) {
          throw new Error(`incident ${view.id} has no remediation waiting for approval`);
        }
      },
    },
  );
  // Sent when no worker polled the queue: the same check as the validator's, made now that a worker runs.
  setHandler(remediationSignal, (request) => {
    if (view.pendingRemediation && !decision) {
      decision = request;
      return;
    }
    if (view.timeline.length < maxTimeline) {
      view.timeline.push({
        at: new Date().toISOString(),
        what: `remediation ${request.approve ? 'approval' : 'rejection'} by ${request.by} ignored: no remediation was waiting for approval`,
      });
    }
  });
  setHandler(investigateSignal, () => {
    investigate = true;
  });
  setHandler(
    resolveUpdate,
    (request) => {
      resolution = { ...request, at: new Date().toISOString() };
      return view;
    },
    {
      validator: (request) => {
        if (resolution) throw new Error(`incident ${view.id} is already resolved (${resolution.cause})`);
        if (!causeNames.includes(request.cause)) {
          throw new Error(`unknown cause '${request.cause}' (known: ${causeNames.join(', ')})`);
        }
      },
    },
  );

  const setStatus = async (status: IncidentStatus) => {
    view.status = status;
    upsertSearchAttributes([{ key: incidentStatusKey, value: status }]);
    await activities.indexIncident(indexEntry(view));
  };
  const indexAlongside = patched(indexAlongsidePatch);
  if (!indexAlongside || !investigate) await setStatus('open');

  // While waiting, occurrences re-index the incident so `incidents ls` shows the count.
  let indexedCount = view.count;
  const waitFor = async (done: () => boolean) => {
    for (;;) {
      await condition(() => done() || view.count !== indexedCount);
      if (view.count !== indexedCount) {
        indexedCount = view.count;
        await activities.indexIncident(indexEntry(view));
      }
      if (done()) return;
    }
  };

  await waitFor(() => investigate || resolution !== undefined);
  // Rollouts and alerts are investigated too; histories from before that replay as they ran (patched).
  if (!resolution && (view.subject.run || patched(subjectsPatch))) {
    const indexing = setStatus('investigating');
    // Awaited below; until then a failure of it must not count as unhandled.
    indexing.catch(() => undefined);
    if (!indexAlongside) await indexing;
    const remediation = await runInvestigation(view, input.signal, activities, checks);
    // The `investigating` entry lands before the `investigated` one.
    await indexing;
    await setStatus('investigated');
    // Remediation by policy: histories from before it replay without it (patched).
    if (view.subject.run && view.rootCause && remediation.action !== 'none' && patched(remediationPatch)) {
      await remediate(view, view.subject.run, remediation, {
        activities,
        decided: () => decision,
        resolved: () => resolution !== undefined,
      });
    }
  }
  view.stage = 'done';

  await waitFor(() => resolution !== undefined);
  view.resolution = resolution;
  view.timeline.push({
    at: resolution!.at!,
    what: `resolved by ${resolution!.by}: ${resolution!.cause}${resolution!.note ? ` — ${resolution!.note}` : ''}`,
  });
  await setStatus('resolved');
  return view;
}

/** Frame → hypothesise → test (in parallel) → report, updating `view` as each stage ends. */
async function runInvestigation(
  view: IncidentView,
  signal: IncidentSignal,
  activities: ReturnType<typeof investigationActivities>,
  checks: ReturnType<typeof checkActivities>,
): Promise<{ action: RemediationAction; policy: string }> {
  view.stage = 'frame';
  const { frame, problem } = await activities.frameFailure(
    signal.subject.run ? { incidentId: view.id, runId: signal.subject.run } : { incidentId: view.id, signal },
  );
  view.reports.problem = problem;
  view.changes = frame.changes;

  view.stage = 'hypothesise';
  const planned = await activities.planHypotheses({
    incidentId: view.id,
    fingerprint: view.fingerprint,
    family: view.family,
    frame,
  });
  view.hypotheses = planned.hypotheses;
  view.similar = planned.similar;
  view.reports.plan = planned.plan;

  view.stage = 'test';
  await Promise.all(
    view.hypotheses.map(async (hypothesis, index) => {
      const outcome = await checks.checkHypothesis.executeWithOptions({ summary: `check ${hypothesis.cause}` }, [
        { incidentId: view.id, cause: hypothesis.cause, frame },
      ]);
      view.hypotheses[index] = { ...hypothesis, ...outcome };
    }),
  );

  // The optional LLM narrative, before the report that shows it; histories from before it replay without (patched).
  let narrative: IncidentNarrative | undefined;
  if (patched(narrativePatch)) {
    view.stage = 'narrate';
    narrative = await narrate(view.id, frame, view.hypotheses);
    if (narrative) {
      view.narrative = narrative;
      view.timeline.push({
        at: new Date().toISOString(),
        what: narrative.note ? `no LLM narrative: ${narrative.note}` : `LLM narrative added (${narrative.model})`,
      });
    }
  }

  view.stage = 'report';
  const reported = await activities.reportIncident({
    incidentId: view.id,
    frame,
    hypotheses: view.hypotheses,
    similar: view.similar,
    actions: view.actions,
    ...(narrative && { narrative }),
  });
  view.rootCause = reported.rootCause;
  view.hypotheses = reported.hypotheses;
  view.reports.rca = reported.rca;
  view.timeline.push({
    at: new Date().toISOString(),
    what: `root cause ${reported.rootCause.cause} (confidence ${reported.rootCause.confidence.toFixed(2)})`,
  });
  // Reports from before remediation existed carry none: suggest.
  return reported.remediation ?? { action: 'none', policy: 'suggest' };
}

/**
 * The LLM narrative of an incident (docs/investigations.md, "Optional LLM narrative"): `undefined` when no endpoint
 * is configured; when the endpoint failed for good, no narrative and a one-line note why — the report never waits on
 * it beyond its retries, and never depends on it.
 */
async function narrate(
  incidentId: string,
  frame: FailureFrame,
  hypotheses: IncidentView['hypotheses'],
): Promise<IncidentNarrative | undefined> {
  try {
    return (await narrativeActivities().narrateIncident({ incidentId, frame, hypotheses })).narrative;
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : error;
    const message = cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : String(cause);
    const retried =
      error instanceof ActivityFailure && error.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED
        ? ' (gave up after its retries)'
        : '';
    return { hypotheses: [], note: `${message.split('\n')[0]}${retried}` };
  }
}

/**
 * Applies the root cause's remediation by its policy (docs/investigations.md, "Remediation"): `suggest` records
 * the suggestion; `auto` takes the action; `approve` waits for `remediationUpdate` (or the incident's resolution,
 * which drops it) and takes the action if approved. Every outcome goes on the actions list and the timeline.
 */
async function remediate(
  view: IncidentView,
  runId: string,
  remediation: { action: RemediationAction; policy: string },
  context: {
    activities: ReturnType<typeof investigationActivities>;
    decided: () => RemediationDecision | undefined;
    resolved: () => boolean;
  },
): Promise<void> {
  const { action, policy } = remediation;
  const cause = view.rootCause!.cause;
  const record = (what: string) => {
    const at = new Date().toISOString();
    view.actions.push(`${at} ${what}`);
    view.timeline.push({ at, what });
  };
  if (policy !== 'auto' && policy !== 'approve') {
    record(`suggested ${action} for ${cause} (policy suggest)`);
    return;
  }
  let by = 'policy auto';
  if (policy === 'approve') {
    view.stage = 'remediate';
    view.pendingRemediation = { cause, action, since: new Date().toISOString() };
    record(`${action} for ${cause} waits for approval`);
    await condition(() => context.decided() !== undefined || context.resolved());
    view.pendingRemediation = undefined;
    const decision = context.decided();
    if (!decision) {
      record(`${action} not taken: the incident was resolved first`);
      return;
    }
    if (!decision.approve) {
      record(`${action} rejected by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`);
      return;
    }
    by = `approved by ${decision.by}`;
  }
  try {
    const taken = await context.activities.remediateIncident({
      incidentId: view.id,
      action,
      runId,
      job: view.rootCause!.job,
      taskQueue: workflowInfo().taskQueue,
    });
    record(`${taken.description} (${by})`);
  } catch (error) {
    record(`${action} failed (${by}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

function subjectKey(subject: InvestigationInput['signal']['subject']): string {
  return subject.run ?? subject.deployment ?? subject.alert ?? 'unknown';
}

function indexEntry(view: IncidentView): IncidentIndexEntry {
  return {
    id: view.id,
    fingerprint: view.fingerprint,
    family: view.family,
    status: view.status,
    source: view.source,
    title: view.title,
    pipeline: view.pipeline,
    subject: view.subject,
    count: view.count,
    openedAt: view.openedAt,
    cause: view.rootCause?.cause,
    confidence: view.rootCause?.confidence,
    summary: view.rootCause?.summary,
    confirmedCause: view.resolution?.cause,
    resolvedAt: view.resolution?.at,
  };
}
