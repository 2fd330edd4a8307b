/**
 * The client's view of incidents (docs/investigations.md): investigating a run on demand, listing and searching the
 * index, showing one incident with its reports, resolving it. Shared by the CLI and `conveyor serve`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { openIncident } from '../activities/investigation/open-incident';
import {
  documentKey,
  listIndex,
  type IncidentDocument,
  type IncidentIndexEntry,
} from '../activities/investigation/records';
import type { ArtifactStore } from '../activities/store/store';
import type { ConveyorConfig } from '../workers/config';
import {
  incidentQuery,
  investigateSignal,
  remediationUpdate,
  resolveUpdate,
  type IncidentView,
  type RemediationDecision,
  type Resolution,
} from '../workflows/investigation-messages';
import { runFailureSignal } from '../workflows/run-failure';
import { CliError } from './cli-error';
import { describeRun, fetchRunStatus } from './runs';

/** An incident as `incidents show --json` prints it: the view with the documents' markdown. */
export interface IncidentReport extends Omit<IncidentView, 'reports'> {
  reports: { problem?: string; plan?: string; rca?: string };
}

/** No incident with this id. */
export class IncidentNotFoundError extends CliError {
  constructor(readonly incidentId: string) {
    super(`no incident '${incidentId}' (list incidents with 'conveyor incidents ls')`, 2);
    this.name = 'IncidentNotFoundError';
  }
}

/** The incident as it stands: its final result once resolved, else its live query. */
export async function fetchIncident(client: Client, incidentId: string): Promise<IncidentView> {
  const handle = client.workflow.getHandle(incidentId);
  try {
    const description = await handle.describe();
    if (description.status.name === 'COMPLETED') return (await handle.result()) as IncidentView;
    return await handle.query(incidentQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new IncidentNotFoundError(incidentId);
    throw error;
  }
}

/** The incident with its documents read from the store. */
export async function incidentReport(
  client: Client,
  store: ArtifactStore,
  incidentId: string,
): Promise<IncidentReport> {
  const view = await fetchIncident(client, incidentId);
  const read = async (key: string | undefined) =>
    key ? (await store.getRecord<IncidentDocument>(key))?.markdown : undefined;
  return {
    ...view,
    reports: {
      problem: await read(view.reports.problem),
      plan: await read(view.reports.plan),
      rca: await read(view.reports.rca),
    },
  };
}

/** Waits until an incident's investigation has reported (or the incident is resolved). */
export async function waitForInvestigation(
  client: Client,
  incidentId: string,
  onProgress: (view: IncidentView) => void = () => undefined,
): Promise<IncidentView> {
  let last = '';
  for (;;) {
    const view = await fetchIncident(client, incidentId);
    const progress = `${view.stage} ${view.hypotheses.map((hypothesis) => hypothesis.verdict).join(',')}`;
    if (progress !== last) onProgress(view);
    last = progress;
    if (view.stage === 'done' || view.status === 'resolved') return view;
    await delay(300);
  }
}

/**
 * Investigates a run on demand: the incident its failure opened when there is one (started now if it was only
 * recorded), else a new one — also for a run that succeeded but looks wrong. Returns the incident id.
 */
export async function investigateRun(client: Client, config: ConveyorConfig, runId: string): Promise<string> {
  const description = await describeRun(client, runId);
  if (description.status.name === 'RUNNING') {
    throw new CliError(`run '${runId}' is still running; investigate it once it has ended`);
  }
  const status = await fetchRunStatus(client, runId);
  if (status.incident) {
    await client.workflow
      .getHandle(status.incident)
      .signal(investigateSignal)
      .catch(() => undefined);
    return status.incident;
  }
  const signal = runFailureSignal(runId, status, new Date().toISOString());
  const opened = await openIncident(client, { signal, taskQueue: config.taskQueues.workflows, investigate: true });
  if (opened.joined) await client.workflow.getHandle(opened.incidentId).signal(investigateSignal);
  return opened.incidentId;
}

/** Starts the investigation of an incident that was only recorded. */
export async function investigateIncident(client: Client, incidentId: string): Promise<void> {
  await fetchIncident(client, incidentId);
  await client.workflow.getHandle(incidentId).signal(investigateSignal);
}

/** Confirms or corrects an incident's root cause and closes it. */
export async function resolveIncident(
  client: Client,
  incidentId: string,
  resolution: Resolution,
): Promise<IncidentView> {
  await fetchIncident(client, incidentId);
  try {
    return await client.workflow.getHandle(incidentId).executeUpdate(resolveUpdate, { args: [resolution] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      throw new CliError(
        `cannot resolve ${incidentId}: ${(error.cause as Error | undefined)?.message ?? error.message}`,
      );
    }
    throw error;
  }
}

/** What a remediation decision did: the action decided on, and by whom. */
export interface RemediationOutcome {
  id: string;
  decision: 'approved' | 'rejected';
  cause: string;
  action: string;
  by: string;
  reason?: string;
}

/**
 * Approves or rejects an incident's remediation waiting for approval (policy `approve`; docs/investigations.md,
 * "Remediation"). Refused, with the reason, when nothing is waiting: not investigated yet, another policy, already
 * decided, or resolved.
 */
export async function decideRemediation(
  client: Client,
  incidentId: string,
  decision: RemediationDecision,
): Promise<RemediationOutcome> {
  const view = await fetchIncident(client, incidentId);
  const refused = (why: string) =>
    new CliError(
      `cannot decide the remediation of ${incidentId}: ${why} (see 'conveyor incidents show ${incidentId}')`,
    );
  if (view.status === 'resolved') throw refused(`the incident is resolved`);
  const pending = view.pendingRemediation;
  try {
    await client.workflow.getHandle(incidentId).executeUpdate(remediationUpdate, { args: [decision] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      throw refused((error.cause as Error | undefined)?.message ?? error.message);
    }
    throw error;
  }
  return {
    id: incidentId,
    decision: decision.approve ? 'approved' : 'rejected',
    cause: pending?.cause ?? view.rootCause?.cause ?? 'unknown',
    action: pending?.action ?? 'unknown',
    by: decision.by,
    ...(decision.comment !== undefined && { reason: decision.comment }),
  };
}

/** Incidents from the index, newest first. */
export async function listIncidents(
  store: ArtifactStore,
  filters: { open?: boolean; pipeline?: string; text?: string; limit?: number },
): Promise<IncidentIndexEntry[]> {
  const rows: IncidentIndexEntry[] = [];
  const needle = filters.text?.toLowerCase();
  for await (const entry of listIndex(store)) {
    if (filters.open && entry.status === 'resolved') continue;
    if (filters.pipeline && entry.pipeline !== filters.pipeline) continue;
    if (needle && !(await matches(store, entry, needle))) continue;
    rows.push(entry);
  }
  rows.sort((a, b) => b.openedAt.localeCompare(a.openedAt));
  return rows.slice(0, filters.limit ?? rows.length);
}

/** Whether an incident's summary fields or its RCA mention `needle` (lower case). */
async function matches(store: ArtifactStore, entry: IncidentIndexEntry, needle: string): Promise<boolean> {
  const fields = [entry.id, entry.title, entry.pipeline, entry.cause, entry.confirmedCause, entry.summary];
  if (fields.some((field) => field?.toLowerCase().includes(needle))) return true;
  const rca = await store.getRecord<IncidentDocument>(documentKey(entry.id, 'RCA.md'));
  return rca?.markdown.toLowerCase().includes(needle) ?? false;
}

/** One line for an incident: id, status, count and cause. */
export function incidentLine(entry: IncidentIndexEntry): string {
  const cause = entry.confirmedCause
    ? `${entry.confirmedCause} (confirmed)`
    : entry.cause
      ? `${entry.cause} (${(entry.confidence ?? 0).toFixed(2)})`
      : '-';
  return `${entry.id}  ${entry.status}  ×${entry.count}  ${cause}  ${entry.title}`;
}

/** The line `conveyor status` prints under a failed run: its incident and one-line root cause. */
export async function incidentSummaryLine(client: Client, incidentId: string): Promise<string> {
  const view = await fetchIncident(client, incidentId).catch(() => undefined);
  const root = view?.rootCause;
  if (!view) return `incident ${incidentId}`;
  if (!root) return `incident ${incidentId}: ${view.status} (${view.stage})`;
  return `incident ${incidentId}: ${root.cause} (confidence ${root.confidence.toFixed(2)}) — ${root.summary}`;
}
