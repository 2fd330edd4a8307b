/**
 * The deploy job's one activity (docs/deployments.md#the-deploy-job): hand a pipeline job's rollout to the
 * deployment workflow of its service and environment, starting that workflow on first use (update-with-start).
 * It runs on the workflow task queue (no Docker needed) with a Temporal client on the worker's own connection.
 * Approval groups come from the worker's conveyor.config.yml (`access:`), read at each request.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { requestRollout } from '../client/deployments';
import { CliError } from '../client/cli-error';
import type { Groups } from '../deploy/approvals';
import type { RolloutAccepted, RolloutRequest } from '../workflows/deployment-messages';

/** What the deploy job activity needs. */
export interface DeployJobActivityDeps {
  client: Client;
  /** The approval groups gates name (config/approval-groups.ts). */
  groups: () => Groups;
}

/** Input of `requestDeployRollout`. */
export interface RequestDeployRolloutInput {
  request: RolloutRequest;
  /** The task queue the deployment workflow runs on when this request starts it. */
  taskQueue: string;
}

/** The deploy job activities. */
export function createDeployJobActivities(deps: DeployJobActivityDeps) {
  return {
    /** Queues the rollout (accepted once per request id); a refusal fails the job with the workflow's reason. */
    async requestDeployRollout(input: RequestDeployRolloutInput): Promise<RolloutAccepted> {
      const request = { ...input.request, groups: input.request.groups ?? deps.groups() };
      try {
        return await requestRollout(deps.client, request, { taskQueue: input.taskQueue });
      } catch (error) {
        if (error instanceof CliError) throw ApplicationFailure.nonRetryable(error.message, 'RolloutRefused');
        throw error;
      }
    },
  };
}
