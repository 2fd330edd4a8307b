/**
 * The client's view of deployments (docs/deployments.md#controlling-a-deployment): request a rollout
 * (update-with-start, so the deployment workflow starts on first use), read a deployment's status, send controls,
 * list deployments. Refusals from the workflow's validators come back as one-line errors; used by the CLI, tests,
 * and `conveyor serve`.
 */
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { deploymentWorkflowId } from '../deploy/names';
import type { deployment } from '../workflows/deployment';
import {
  rolloutUpdate,
  statusQuery,
  type DeploymentOptions,
  type DeploymentStatus,
  type RolloutAccepted,
  type RolloutRequest,
} from '../workflows/deployment-messages';
import { deployStateKey, environmentKey, serviceKey } from '../workflows/search-attributes';
import { CliError } from './cli-error';

/** Where the deployment workflow runs. */
export interface DeploymentPlacement {
  taskQueue: string;
  options?: DeploymentOptions;
}

/** A refusal (or failure) of an update, as one line; other errors pass through. */
export function updateFailureMessage(error: unknown): string | undefined {
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause;
    return cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : error.message;
  }
  return undefined;
}

/**
 * Sends a rollout request, starting the deployment workflow when it does not run yet. Resolves with the request's
 * place (0: running now); rejects with a CliError when the workflow refuses it.
 */
export async function requestRollout(
  client: Client,
  request: RolloutRequest,
  placement: DeploymentPlacement,
): Promise<RolloutAccepted> {
  const { service, environment } = request.spec;
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof deployment>('deployment', {
    workflowId: deploymentWorkflowId(service, environment),
    taskQueue: placement.taskQueue,
    args: [{ service, environment, options: placement.options }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: serviceKey, value: service },
      { key: environmentKey, value: environment },
      { key: deployStateKey, value: 'pending' },
    ],
    staticSummary: `deployment of ${service} in ${environment}`,
  });
  try {
    return await client.workflow.executeUpdateWithStart(rolloutUpdate, { args: [request], startWorkflowOperation });
  } catch (error) {
    const refusal = updateFailureMessage(error);
    if (refusal) throw new CliError(refusal);
    throw error;
  }
}

/** The live status of a deployment, or a CliError naming it when there is none. */
export async function fetchDeploymentStatus(
  client: Client,
  service: string,
  environment: string,
): Promise<DeploymentStatus> {
  const workflowId = deploymentWorkflowId(service, environment);
  try {
    return await client.workflow.getHandle(workflowId).query(statusQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || (error as Error).name === 'WorkflowNotFoundError') {
      throw new CliError(`no deployment of ${service} in ${environment} (list them with 'conveyor deploy ls')`);
    }
    throw error;
  }
}

/** A deployment as `deploy ls` lists it. */
export interface DeploymentListing {
  service: string;
  environment: string;
  state: string;
  workflowId: string;
  running: boolean;
}

/** Deployments known to Temporal visibility, newest first (closed ones included with `all`). */
export async function listDeployments(client: Client, all = false): Promise<DeploymentListing[]> {
  const query = `WorkflowType = 'deployment'${all ? '' : " AND ExecutionStatus = 'Running'"}`;
  const seen = new Set<string>();
  const found: DeploymentListing[] = [];
  for await (const execution of client.workflow.list({ query })) {
    if (seen.has(execution.workflowId)) continue;
    seen.add(execution.workflowId);
    const attributes = execution.typedSearchAttributes;
    found.push({
      workflowId: execution.workflowId,
      service: attributes.get(serviceKey) ?? '',
      environment: attributes.get(environmentKey) ?? '',
      state: attributes.get(deployStateKey) ?? '',
      running: execution.status.name === 'RUNNING',
    });
  }
  return found;
}
