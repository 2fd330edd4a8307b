/**
 * The investigation workflow's messages (docs/investigations.md): its input, the incident it reports, and its
 * signals, updates and queries. Client code (the CLI, `conveyor serve`) imports this module, never the workflow.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  Change,
  Hypothesis,
  IncidentSignal,
  RootCause,
  SimilarIncident,
  TimelineEntry,
} from '../investigate/incident';
import type { IncidentNarrative } from '../investigate/narrative';

/** Input of `investigation`. */
export interface InvestigationInput {
  /** The signal that opened the incident. */
  signal: IncidentSignal;
  /** Investigate at once (failed runs, alerts an auto-investigate rule selects); else wait for `investigate`. */
  investigate: boolean;
}

/** An incident's lifecycle. */
export type IncidentStatus = 'open' | 'investigating' | 'investigated' | 'resolved';

/** Where a running investigation is (live progress, INC-050). */
export type InvestigationStage =
  'waiting' | 'frame' | 'hypothesise' | 'test' | 'narrate' | 'report' | 'remediate' | 'done';

/** A remediation waiting for a human's decision (policy `approve`). */
export interface PendingRemediation {
  cause: string;
  action: string;
  since: string;
}

/** A human's decision on a pending remediation. */
export interface RemediationDecision {
  approve: boolean;
  by: string;
  comment?: string;
}

/** A human's confirmation or correction of the root cause (INC-072). */
export interface Resolution {
  cause: string;
  note?: string;
  by: string;
  at?: string;
}

/** The store keys of an incident's documents (records holding `{ name, markdown }`). */
export interface IncidentReports {
  problem?: string;
  plan?: string;
  rca?: string;
}

/** What `incidents show --json` prints and the `incident` query returns. */
export interface IncidentView {
  id: string;
  fingerprint: string;
  family: string;
  status: IncidentStatus;
  stage: InvestigationStage;
  source: string;
  severity: string;
  title: string;
  subject: IncidentSignal['subject'];
  /** The pipeline, for failed runs. */
  pipeline?: string;
  /** How many signals joined the incident (the first included). */
  count: number;
  openedAt: string;
  timeline: TimelineEntry[];
  rootCause?: RootCause;
  hypotheses: Hypothesis[];
  changes: Change[];
  similar: SimilarIncident[];
  reports: IncidentReports;
  /**
   * The optional LLM narrative (docs/investigations.md): prose and suggested hypotheses that decide nothing, or a
   * one-line note why there is none. Absent when no endpoint is configured.
   */
  narrative?: IncidentNarrative;
  resolution?: Resolution;
  /** Remediation actions taken or suggested, with who and when. */
  actions: string[];
  /** Set while a remediation waits for approval (`remediationUpdate`). */
  pendingRemediation?: PendingRemediation;
}

/** Another signal with the incident's fingerprint: counted and put on the timeline, no new investigation. */
export const occurrenceSignal = defineSignal<[IncidentSignal]>('occurrence');

/** Start the investigation of an incident that was only recorded (`conveyor investigate --incident ID`). */
export const investigateSignal = defineSignal<[]>('investigate');

/** Confirm or correct the root cause and close the incident (`conveyor incidents resolve ID --cause C`). */
export const resolveUpdate = defineUpdate<IncidentView, [Resolution]>('resolve');

/** Approve or reject the pending remediation (policy `approve`), like a deployment gate. */
export const remediationUpdate = defineUpdate<IncidentView, [RemediationDecision]>('remediation');

/**
 * The same decision as a signal, for when no worker polls the incident's task queue (an update would wait for one):
 * checked when a worker runs — applied if a remediation is waiting then and none was decided, else noted on the
 * timeline as ignored (`conveyor incidents remediate`, docs/investigations.md "Remediation").
 */
export const remediationSignal = defineSignal<[RemediationDecision]>('remediation-decision');

/** The incident as it stands: stage, hypotheses and verdicts as they arrive. */
export const incidentQuery = defineQuery<IncidentView>('incident');

/** The workflow id of an incident: `incident-<fingerprint>-<n>`. */
export function incidentId(fingerprint: string, n: number): string {
  return `incident-${fingerprint}-${n}`;
}
