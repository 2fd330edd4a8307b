/**
 * The client's view of incidents (docs/investigations.md): investigating a run on demand, listing and searching the
 * index, showing one incident with its reports, resolving it. Shared by the CLI and `conveyor serve`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
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
  remediationSignal,
  remediationUpdate,
  resolveUpdate,
  type IncidentView,
  type RemediationDecision,
  type Resolution,
} from '../workflows/investigation-messages';
import { runFailureSignal } from '../workflows/run-failure';
import { CliError } from './cli-error';
import { describeRun, fetchRunStatus } from './runs';
import { describePollers, isLivePoller } from './task-queue-pollers';

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

/** What a remediation decision did: the action decided on, by whom, and how it was delivered. */
export interface RemediationOutcome {
  id: string;
  decision: 'approved' | 'rejected';
  /** The cause and action decided on (unknown when sent as a signal: no worker could say). */
  cause?: string;
  action?: string;
  by: string;
  reason?: string;
  /** `update`: the workflow took it; `signal`: no worker answered, so it is checked when one runs. */
  via: 'update' | 'signal';
  /** With `signal`: what happened and what to do, in one line. */
  message?: string;
}

/** How long the CLI waits for a worker to answer a remediation decision before sending it as a signal. */
export const remediationAnswerSeconds = 15;

/**
 * Approves or rejects an incident's remediation waiting for approval (policy `approve`; docs/investigations.md,
 * "Remediation"). Refused, with the reason, when nothing is waiting: not investigated yet, another policy, already
 * decided, or resolved. Like `conveyor deploy approve` (client/deploy-control.ts): when no worker polls the
 * incident's task queue, or none answers within `remediationAnswerSeconds`, the decision goes as the
 * `remediationSignal`, which the workflow checks and applies once a worker runs.
 */
export async function decideRemediation(
  client: Client,
  incidentId: string,
  decision: RemediationDecision,
): Promise<RemediationOutcome> {
  const handle = client.workflow.getHandle(incidentId);
  const refused = (why: string) =>
    new CliError(
      `cannot decide the remediation of ${incidentId}: ${why} (see 'conveyor incidents show ${incidentId}')`,
    );
  let taskQueue: string;
  try {
    const description = await handle.describe();
    if (description.status.name === 'COMPLETED') throw refused('the incident is resolved');
    if (description.status.name !== 'RUNNING') {
      throw refused(`the incident's workflow has ended (${description.status.name.toLowerCase()})`);
    }
    taskQueue = description.taskQueue;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new IncidentNotFoundError(incidentId);
    throw error;
  }
  const outcome = {
    id: incidentId,
    decision: decision.approve ? ('approved' as const) : ('rejected' as const),
    by: decision.by,
    ...(decision.comment !== undefined && { reason: decision.comment }),
  };
  const bySignal = async (why: string): Promise<RemediationOutcome> => {
    await handle.signal(remediationSignal, decision);
    return {
      ...outcome,
      via: 'signal',
      message:
        `${why}: the decision was sent as a signal, checked and applied when a worker runs ` +
        `(see 'conveyor incidents show ${incidentId}')`,
    };
  };
  const [workflows] = await describePollers(client.connection, client.options.namespace, {
    workflows: taskQueue,
    docker: `${taskQueue}-docker`,
  });
  if (!workflows?.pollers.some((poller) => isLivePoller(poller, Date.now()))) {
    return bySignal(`no worker polls task queue '${taskQueue}'`);
  }
  // A worker polled lately but may have stopped since (the server lists pollers for minutes): a deadline, not a hang.
  const unanswered = `no worker of task queue '${taskQueue}' answered within ${remediationAnswerSeconds} s`;
  const deadline = () => Date.now() + remediationAnswerSeconds * 1000;
  let view: IncidentView;
  try {
    view = await client.withDeadline(deadline(), () => handle.query(incidentQuery));
  } catch (error) {
    // The server could not get an answer from a worker (deadline, or its own query timeout): nothing was decided.
    if (error instanceof ServiceError || isDeadlineExceeded(error)) return bySignal(unanswered);
    throw error;
  }
  if (view.status === 'resolved') throw refused('the incident is resolved');
  const pending = view.pendingRemediation;
  try {
    await client.withDeadline(deadline(), () => handle.executeUpdate(remediationUpdate, { args: [decision] }));
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      throw refused((error.cause as Error | undefined)?.message ?? error.message);
    }
    // An update no worker took is not applied; the signal then carries the decision (a late update is refused).
    if (isDeadlineExceeded(error)) return bySignal(unanswered);
    throw error;
  }
  return {
    ...outcome,
    cause: pending?.cause ?? view.rootCause?.cause ?? 'unknown',
    action: pending?.action ?? 'unknown',
    via: 'update',
  };
}

/** Whether a client call failed because its deadline passed (gRPC DEADLINE_EXCEEDED, 4). */
function isDeadlineExceeded(error: unknown): boolean {
  for (let cause: unknown = error; cause; cause = (cause as { cause?: unknown }).cause) {
    if ((cause as { code?: unknown }).code === 4) return true;
    if (cause instanceof ServiceError && /deadline/i.test(cause.message)) return true;
  }
  return false;
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
