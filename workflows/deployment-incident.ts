/**
 * How a rollout that did not complete hands itself to the investigation (docs/investigations.md, "Deployments"):
 * the deployment workflow opens an incident for it — or joins the open one with its fingerprint — with the facts it
 * holds (the evidence, the rollout's measurements and gate decisions, the release it replaced). Failing to do so is
 * logged, never the deployment's failure.
 */
import { patched, workflowInfo } from '@temporalio/workflow';
import type { Measurement } from '../deploy/analysis';
import type { GateDecision } from '../deploy/approvals';
import { deploymentSignal, type DeployedRelease } from '../investigate/deployment';
import { openIncidentFor } from './run-investigation';
import type { RolloutResult } from './deployment-messages';
import type { Release } from './rollout-context';

/** The patch marker: histories recorded before deployments opened incidents replay without the activity. */
export const deploymentIncidentPatch = 'deployment-incident';

function released(release: Release): DeployedRelease {
  return { version: release.version, image: release.image, replicas: release.replicas, spec: release.spec };
}

/**
 * Opens or joins the incident of a rollout that rolled back or failed (no-op for a completed one, or in histories
 * from before the patch); returns its id, or undefined.
 */
export async function openRolloutIncident(
  result: RolloutResult,
  context: { release: Release; from: Release | null; analysis: Measurement[]; approvals: GateDecision[] },
): Promise<string | undefined> {
  if (result.outcome === 'complete' || !patched(deploymentIncidentPatch)) return undefined;
  const signal = deploymentSignal({
    deploymentId: workflowInfo().workflowId,
    rolloutId: result.id,
    service: result.service,
    environment: result.environment,
    strategy: result.strategy,
    outcome: result.outcome,
    reason: result.reason,
    evidence: result.evidence,
    release: released(context.release),
    previous: context.from ? released(context.from) : undefined,
    measurements: context.analysis,
    approvals: context.approvals,
    requestedBy: result.requestedBy.user,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
  });
  return openIncidentFor(signal);
}
