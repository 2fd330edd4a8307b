/**
 * Deployment controls from every channel of the control plane (docs/control-plane.md#deployments): the API, the web
 * view and Slack all come here. The role a control needs is checked first (per environment); then the control goes
 * to the deployment workflow as an **update**, whose validator decides — who may approve which gate, whether a
 * promote or rollback applies now — so no channel can do more than its user may, and a refusal changes nothing.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Role } from '../config/access';
import { deploymentWorkflowId } from '../deploy/names';
import { updateFailureMessage } from '../client/deployments';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  promoteUpdate,
  rejectUpdate,
  resumeUpdate,
  rollbackUpdate,
  statusQuery,
  type ControlAccepted,
  type DeploymentStatus,
} from '../workflows/deployment-messages';
import type { AccessControl, Identity } from './access-control';
import { conflict, forbidden, notFound } from './http-errors';

/** The controls the control plane sends. */
export const deploymentControls = ['approve', 'reject', 'promote', 'abort', 'pause', 'resume', 'rollback'] as const;
export type DeploymentControl = (typeof deploymentControls)[number];

/** The role each control needs in the deployment's environment. */
export const controlRoles: Record<DeploymentControl, Role> = {
  approve: 'approver',
  reject: 'approver',
  promote: 'operator',
  abort: 'operator',
  pause: 'operator',
  resume: 'operator',
  rollback: 'operator',
};

/** What a control carries besides who sends it. */
export interface ControlOptions {
  comment?: string;
  /** approve / reject: the gate (default: the one open now). */
  gate?: string;
  /** promote: every remaining step up to the next gate. */
  full?: boolean;
  /** rollback: the version to go back to. */
  to?: string;
}

const updates = {
  approve: approveUpdate,
  reject: rejectUpdate,
  promote: promoteUpdate,
  abort: abortUpdate,
  pause: pauseUpdate,
  resume: resumeUpdate,
  rollback: rollbackUpdate,
} as const;

function isNotFound(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return (
    error instanceof WorkflowNotFoundError ||
    name === 'WorkflowNotFoundError' ||
    /workflow execution already completed|not found/i.test((error as Error | undefined)?.message ?? '')
  );
}

function noDeployment(service: string, environment: string) {
  return notFound(`no running deployment of ${service} in ${environment} (GET /api/deployments lists them)`);
}

/** The deployment's live status; 404 when it has none. */
export async function deploymentStatus(
  client: Client,
  service: string,
  environment: string,
): Promise<DeploymentStatus> {
  try {
    return await client.workflow.getHandle(deploymentWorkflowId(service, environment)).query(statusQuery);
  } catch (error) {
    if (isNotFound(error)) throw noDeployment(service, environment);
    throw error;
  }
}

/** Which controls `identity` may send in `environment` (the web view shows only those buttons). */
export function allowedControls(access: AccessControl, user: string, environment: string): Set<DeploymentControl> {
  return new Set(deploymentControls.filter((control) => access.allows(user, controlRoles[control], environment)));
}

/**
 * Sends one control as `identity` through `channel`. Throws 403 without the role, 404 without a running deployment,
 * and 409 with the workflow validator's reason when it refuses.
 */
export async function sendDeploymentControl(
  client: Client,
  access: AccessControl,
  request: {
    identity: Identity;
    channel: 'api' | 'web' | 'slack';
    service: string;
    environment: string;
    control: DeploymentControl;
  } & ControlOptions,
): Promise<ControlAccepted> {
  const { identity, service, environment, control } = request;
  const role = controlRoles[control];
  if (!access.allows(identity.user, role, environment)) {
    throw forbidden(`${identity.user} lacks the '${role}' role in environment '${environment}'`, {
      missingRole: role,
      environment,
    });
  }
  const actor = { user: identity.user, channel: request.channel, comment: request.comment };
  const handle = client.workflow.getHandle(deploymentWorkflowId(service, environment));
  try {
    switch (control) {
      case 'approve':
      case 'reject':
        return await handle.executeUpdate(updates[control], { args: [{ ...actor, gate: request.gate }] });
      case 'promote':
        return await handle.executeUpdate(promoteUpdate, { args: [{ ...actor, full: request.full }] });
      case 'rollback':
        return await handle.executeUpdate(rollbackUpdate, { args: [{ ...actor, to: request.to }] });
      default:
        return await handle.executeUpdate(updates[control], { args: [actor] });
    }
  } catch (error) {
    const refusal = updateFailureMessage(error);
    if (refusal) throw conflict(refusal);
    if (isNotFound(error)) throw noDeployment(service, environment);
    throw error;
  }
}
