/**
 * Sending a control to a deployment from the CLI (docs/deployments.md#controlling-a-deployment): as an update, so a
 * refusal comes back at once with its reason; or, when no worker polls the deployment's task queue (an update would
 * wait for one), as the signal of the same name, which the workflow checks and applies when a worker runs.
 */
import { userInfo } from 'node:os';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { deploymentWorkflowId } from '../deploy/names';
import { CliError } from './cli-error';
import { updateFailureMessage } from './deployments';
import { describePollers, isLivePoller } from './task-queue-pollers';

/** Who the CLI acts as: `--as`, else CONVEYOR_USER, else the OS user. */
export function cliUser(as?: string): string {
  return as ?? process.env.CONVEYOR_USER ?? userInfo().username;
}

/** How a control was delivered, and what the workflow said. */
export interface ControlOutcome {
  via: 'update' | 'signal';
  message: string;
}

/** Sends `update` (or, with no worker, `signal`) with `input` to the deployment of `service` in `environment`. */
export async function sendControl<Input, Result extends { message: string }>(
  client: Client,
  target: { service: string; environment: string },
  update: UpdateDefinition<Result, [Input]>,
  signal: SignalDefinition<[Input]>,
  input: Input,
): Promise<ControlOutcome> {
  const workflowId = deploymentWorkflowId(target.service, target.environment);
  const handle = client.workflow.getHandle(workflowId);
  let taskQueue: string;
  try {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') {
      throw new CliError(
        `the deployment of ${target.service} in ${target.environment} has ended (${description.status.name.toLowerCase()})`,
      );
    }
    taskQueue = description.taskQueue;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new CliError(
        `no deployment of ${target.service} in ${target.environment} (list them with 'conveyor deploy ls')`,
      );
    }
    throw error;
  }
  const [workflows] = await describePollers(client.connection, client.options.namespace, {
    workflows: taskQueue,
    docker: `${taskQueue}-docker`,
  });
  if (!workflows?.pollers.some((poller) => isLivePoller(poller, Date.now()))) {
    await handle.signal(signal, input);
    return {
      via: 'signal',
      message: `no worker polls ${taskQueue}: sent as a signal, checked and applied when a worker runs (see 'conveyor deploy status')`,
    };
  }
  try {
    const result = await handle.executeUpdate(update, { args: [input] });
    return { via: 'update', message: result.message };
  } catch (error) {
    const refusal = updateFailureMessage(error);
    if (refusal) throw new CliError(refusal);
    throw error;
  }
}
