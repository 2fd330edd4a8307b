/**
 * The gate message's **Approve** and **Reject** buttons (docs/control-plane.md#slack): the pressing user's Conveyor
 * identity needs the `approver` role in the environment, and the decision goes through the deployment workflow's
 * update validator with `channel: "slack"` like any other channel's. The reply, shown only to that user, says the
 * outcome or the refusal's reason; the message itself is settled by the workflow (workflows/gate-notices.ts).
 */
import { z } from 'zod';
import { gateActions } from '../../activities/slack-gate-message';
import { deployNamePattern } from '../../deploy/spec-schema';
import { sendDeploymentControl } from '../deployment-control';
import { HttpError } from '../http-errors';
import { slackActionHandlers, type SlackActionHandler } from './interactions';

const buttonValueSchema = z.object({
  service: z.string().regex(deployNamePattern),
  environment: z.string().regex(deployNamePattern),
  gate: z.string().min(1),
});

function gateHandler(control: 'approve' | 'reject'): SlackActionHandler {
  return async (action, context) => {
    let parsed: z.output<typeof buttonValueSchema>;
    try {
      parsed = buttonValueSchema.parse(JSON.parse(action.value));
    } catch {
      return 'This button does not name a deployment gate Conveyor knows; nothing was done.';
    }
    const { service, environment, gate } = parsed;
    try {
      const accepted = await sendDeploymentControl(context.client, context.settings().access, {
        identity: action.identity,
        channel: 'slack',
        service,
        environment,
        control,
        gate,
      });
      return `${service} in ${environment}: ${accepted.message}.`;
    } catch (error) {
      if (error instanceof HttpError) {
        return `Not done — ${service} in ${environment}, gate '${gate}': ${error.body.message}.`;
      }
      throw error;
    }
  };
}

/** Registers the two buttons with `POST /slack/interactions`. */
export function registerGateActions(): void {
  slackActionHandlers.set(gateActions.approve, gateHandler('approve'));
  slackActionHandlers.set(gateActions.reject, gateHandler('reject'));
}
