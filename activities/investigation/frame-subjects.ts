/**
 * Framing incidents that are not failed runs (docs/investigations.md, "Deployments" and "Alerts"): a rollout's
 * facts travel in its signal, so framing it is reading them; an alert is framed with the rollouts of its service
 * that ended shortly before it started, read from the deployment workflows (their `status` query).
 */
import type { Client } from '@temporalio/client';
import { recentRolloutMinutes } from '../../investigate/alert-causes';
import { releaseChanges } from '../../investigate/deployment';
import type { AlertFacts, FailureFrame, IncidentSignal, TimelineEntry } from '../../investigate/incident';
import { statusQuery, type DeploymentStatus } from '../../workflows/deployment-messages';
import { environmentKey, serviceKey } from '../../workflows/search-attributes';

/** An empty frame of the run fields, for incidents that are not runs. */
function baseFrame(subject: string, title: string, status: string, startedAt: string): FailureFrame {
  return {
    runId: subject,
    pipeline: title,
    runStatus: status,
    startedAt,
    otherFailedJobs: [],
    logExcerpt: [],
    timeline: [],
    changes: [],
    retries: [],
    infrastructure: [],
    inputs: [],
  };
}

/** Frames a rollout from the facts its signal carries. */
export function frameDeployment(signal: IncidentSignal): FailureFrame {
  const facts = signal.deployment;
  if (!facts) throw new Error(`incident signal '${signal.title}' carries no deployment facts`);
  const frame = baseFrame(facts.rolloutId, `${facts.service}/${facts.environment}`, facts.outcome, facts.startedAt);
  frame.finishedAt = facts.finishedAt;
  frame.reason = facts.evidence?.source ?? 'rollout';
  frame.message = facts.reason;
  frame.image = facts.release.image;
  frame.deployment = facts;
  frame.changes = releaseChanges(facts.previous, facts.release);
  const timeline: TimelineEntry[] = [
    {
      at: facts.startedAt,
      what: `rollout ${facts.rolloutId} of ${facts.release.version} started (${facts.strategy}, by ${facts.requestedBy})`,
    },
    ...facts.measurements.map((measurement) => ({
      at: measurement.at,
      what: `${measurement.source} measurement ${measurement.verdict}: ${measurement.metrics
        .map((metric) => `${metric.name}=${metric.value ?? 'no data'} (${metric.verdict})`)
        .join(', ')}`,
    })),
    ...facts.approvals.map((entry) => ({
      at: entry.at,
      what: `gate '${entry.gate}' ${entry.decision} by ${entry.user}`,
    })),
    { at: facts.finishedAt, what: `rollout ${facts.outcome}: ${facts.reason ?? ''}`.trim() },
  ];
  frame.timeline = timeline.sort((a, b) => a.at.localeCompare(b.at));
  return frame;
}

/** The service an alert is about: its `service` label, else `app`, else `job`. */
export function alertService(labels: Record<string, string>): string | undefined {
  return labels.service ?? labels.app ?? labels.job;
}

/** Frames an alert: the alert itself, and the rollouts of its service that ended near its start. */
export async function frameAlert(client: Client, signal: IncidentSignal): Promise<FailureFrame> {
  const service = alertService(signal.labels);
  const environment = signal.environment;
  const alert: AlertFacts = {
    source: signal.source,
    title: signal.title,
    severity: signal.severity,
    environment,
    labels: signal.labels,
    annotations: signal.annotations,
    startsAt: signal.startsAt,
    rollouts: [],
    service,
  };
  const frame = baseFrame(
    signal.subject.alert ?? signal.title,
    signal.title,
    signal.status ?? 'firing',
    signal.startsAt,
  );
  frame.alert = alert;
  frame.timeline = [
    { at: signal.startsAt, what: `alert ${signal.title} started (${signal.source}, ${signal.severity})` },
  ];
  if (!service) return frame;

  const quote = (text: string) => text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const query = `WorkflowType = 'deployment' AND ${serviceKey.name} = '${quote(service)}'${
    environment ? ` AND ${environmentKey.name} = '${quote(environment)}'` : ''
  }`;
  const started = Date.parse(signal.startsAt);
  const from = started - recentRolloutMinutes * 60_000;
  const seen = new Set<string>();
  for await (const execution of client.workflow.list({ query })) {
    if (seen.has(execution.workflowId)) continue;
    seen.add(execution.workflowId);
    let status: DeploymentStatus;
    try {
      status = await client.workflow.getHandle(execution.workflowId).query(statusQuery);
    } catch {
      frame.infrastructure.push(`deployment ${execution.workflowId}: its status could not be read`);
      continue;
    }
    for (const result of status.history) {
      const finished = Date.parse(result.finishedAt);
      if (finished < from || finished > started + 60_000) continue;
      alert.rollouts.push({
        deploymentId: execution.workflowId,
        rolloutId: result.id,
        version: result.version,
        outcome: result.outcome,
        finishedAt: result.finishedAt,
        reason: result.reason,
        incident: result.incident,
      });
      frame.timeline.push({ at: result.finishedAt, what: `rollout of ${service} ${result.version} ${result.outcome}` });
    }
  }
  frame.timeline.sort((a, b) => a.at.localeCompare(b.at));
  return frame;
}
