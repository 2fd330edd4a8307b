/**
 * Opening an incident, or joining the open one (docs/investigations.md, "Grouping"; INC-013): a signal whose
 * fingerprint has an open incident is sent to it as an `occurrence` (a count and a timeline entry); otherwise a new
 * `investigation` workflow `incident-<fingerprint>-<n>` starts, where n is one more than the closed incidents of
 * that fingerprint. Ids are never reused (REJECT_DUPLICATE), so a race between two openers ends in one incident.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { IncidentSignal } from '../../investigate/incident';
import { incidentId, occurrenceSignal, type InvestigationInput } from '../../workflows/investigation-messages';
import { fingerprintKey, incidentStatusKey } from '../../workflows/search-attributes';

/** What `openIncident` did. */
export interface OpenedIncident {
  incidentId: string;
  /** True when the signal joined an incident that was already open. */
  joined: boolean;
}

/** The most incident numbers tried past the visibility count (it may lag behind closed incidents). */
const maxProbes = 50;

/** Opens an incident for `signal` on `taskQueue`, or joins the open one with its fingerprint. */
export async function openIncident(
  client: Client,
  request: { signal: IncidentSignal; taskQueue: string; investigate: boolean },
): Promise<OpenedIncident> {
  const { signal } = request;
  const closed = await client.workflow.count(
    `WorkflowType = 'investigation' AND ConveyorFingerprint = '${signal.fingerprint}' AND ExecutionStatus != 'Running'`,
  );
  for (let n = closed.count + 1; n <= closed.count + maxProbes; n += 1) {
    const id = incidentId(signal.fingerprint, n);
    try {
      await client.workflow.getHandle(id).signal(occurrenceSignal, signal);
      return { incidentId: id, joined: true };
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const input: InvestigationInput = { signal, investigate: request.investigate };
    try {
      await client.workflow.start('investigation', {
        workflowId: id,
        taskQueue: request.taskQueue,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: fingerprintKey, value: signal.fingerprint },
          { key: incidentStatusKey, value: 'open' },
        ],
        staticSummary: signal.title.slice(0, 200),
      });
      return { incidentId: id, joined: false };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      // Started by a racing opener a moment ago (join it on the next pass), or closed: try the next number.
      try {
        await client.workflow.getHandle(id).signal(occurrenceSignal, signal);
        return { incidentId: id, joined: true };
      } catch (retry) {
        if (!(retry instanceof WorkflowNotFoundError)) throw retry;
      }
    }
  }
  throw new Error(`no free incident number for fingerprint ${signal.fingerprint} after ${maxProbes} tries`);
}
