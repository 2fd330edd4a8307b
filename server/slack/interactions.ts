/**
 * Slack interactive button presses (`block_actions` payloads) after their signature was checked: the payload's
 * shape, the buttons Conveyor understands, and the ephemeral reply to the person who pressed.
 */
import { z } from 'zod';
import type { Identity } from '../access-control';
import type { ServerContext } from '../context';

/** The parts of a `block_actions` payload Conveyor reads. */
export const blockActionsSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  actions: z
    .array(z.looseObject({ action_id: z.string(), value: z.string().optional(), block_id: z.string().optional() }))
    .min(1),
  response_url: z.string().optional(),
  channel: z.looseObject({ id: z.string() }).optional(),
  container: z.looseObject({ message_ts: z.string().optional(), channel_id: z.string().optional() }).optional(),
  message: z.looseObject({ ts: z.string() }).optional(),
});
export type BlockActions = z.output<typeof blockActionsSchema>;

/** One pressed button, from a mapped user. */
export interface SlackAction {
  actionId: string;
  value: string;
  /** The Conveyor user the Slack user maps to. */
  identity: Identity;
  slackUserId: string;
  payload: BlockActions;
}

/** Handles one kind of button; returns the text shown (only) to the person who pressed it. */
export type SlackActionHandler = (action: SlackAction, context: ServerContext) => Promise<string>;

/** Buttons by `action_id`; an area adds its own (the deployment gates add approve and reject). */
export const slackActionHandlers = new Map<string, SlackActionHandler>();

/** Sends an ephemeral reply through the interaction's `response_url` (bounded to 5 s; failures are logged only). */
export async function replyEphemeral(responseUrl: string | undefined, text: string): Promise<void> {
  if (!responseUrl) return;
  const response = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`Slack answered ${response.status} to the reply`);
}
