/**
 * The Slack message of an approval gate (docs/control-plane.md#slack), in Block Kit: while the gate waits, the
 * service, environment, versions and weight, the canary's latest measurements against stable, who may approve, and
 * **Approve** / **Reject** buttons; once it is decided or times out, the same facts with who decided, how and when,
 * and no buttons. Pure: the activities post what this builds.
 */

/** The action ids of the two buttons; `POST /slack/interactions` dispatches on them. */
export const gateActions = { approve: 'conveyor_gate_approve', reject: 'conveyor_gate_reject' } as const;

/** What a button carries (as JSON in its `value`): which gate of which deployment. */
export interface GateButtonValue {
  service: string;
  environment: string;
  gate: string;
}

/** One metric of the latest measurement. */
export interface GateMetric {
  name: string;
  canary: number | null;
  stable?: number | null;
  condition: string;
  verdict: string;
}

/** Everything the message shows about a waiting gate. */
export interface GateFacts {
  service: string;
  environment: string;
  gate: { name: string; approvers: string[]; required: number; deadline?: string; approvedBy?: string[] };
  stable: { version: string } | null;
  canary: { version: string; weight: number } | null;
  /** The latest measurement's metrics, if the rollout measured anything yet. */
  metrics: GateMetric[];
  /** The deployment in the web view, when its public address is known. */
  link?: string;
}

/** How a gate ended. */
export interface GateOutcome {
  outcome: 'approved' | 'rejected' | 'timed_out' | 'closed';
  /** The decisions that ended it (and earlier approvals), oldest first. */
  decisions: { user: string; decision: string; channel: string; at: string; comment?: string }[];
  /** When it ended (ISO). */
  at: string;
  /** Why, when it did not end by a decision (e.g. the rollout was aborted). */
  reason?: string;
}

/** A Block Kit block (the subset these messages use). */
export type Block = { type: string; [key: string]: unknown };

function formatValue(name: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return 'n/a';
  if (name === 'error_rate') return `${(value * 100).toFixed(2)} %`;
  if (name.startsWith('latency')) return `${value.toFixed(1)} ms`;
  if (name === 'request_rate') return `${value.toFixed(1)}/s`;
  return String(Math.round(value * 10_000) / 10_000);
}

/** Slack's date formatting: shown in the reader's time zone, with a plain fallback. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time_secs}|${iso.replace('T', ' ').slice(0, 19)} UTC>`;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function factBlocks(facts: GateFacts): Block[] {
  const versions = [
    facts.stable ? `stable *${escapeText(facts.stable.version)}*` : 'no stable version yet',
    facts.canary ? `canary *${escapeText(facts.canary.version)}* at ${facts.canary.weight} %` : undefined,
  ].filter(Boolean);
  const blocks: Block[] = [
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Service*\n${escapeText(facts.service)}` },
        { type: 'mrkdwn', text: `*Environment*\n${escapeText(facts.environment)}` },
        { type: 'mrkdwn', text: `*Versions*\n${versions.join(', ')}` },
        {
          type: 'mrkdwn',
          text: `*Who may approve*\n${facts.gate.approvers.map(escapeText).join(', ')} (${facts.gate.required} needed)`,
        },
      ],
    },
  ];
  if (facts.metrics.length > 0) {
    const lines = facts.metrics.map((metric) => {
      const mark = metric.verdict === 'pass' ? '✅' : metric.verdict === 'fail' ? '❌' : '❔';
      const stable = metric.stable !== undefined ? ` vs stable ${formatValue(metric.name, metric.stable)}` : '';
      return `${mark} \`${metric.name}\` canary ${formatValue(metric.name, metric.canary)}${stable} (${escapeText(metric.condition)})`;
    });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Latest analysis*\n${lines.join('\n')}` } });
  }
  return blocks;
}

function title(facts: GateFacts): string {
  return `${facts.service} → ${facts.environment}: gate '${facts.gate.name}'`;
}

/** The message while the gate waits: facts and the two buttons. */
export function waitingGateMessage(facts: GateFacts): { text: string; blocks: Block[] } {
  const value = JSON.stringify({
    service: facts.service,
    environment: facts.environment,
    gate: facts.gate.name,
  } satisfies GateButtonValue);
  const approved = facts.gate.approvedBy?.length
    ? ` Approved so far by ${facts.gate.approvedBy.map(escapeText).join(', ')}.`
    : '';
  const deadline = facts.gate.deadline ? ` Decide by ${slackDate(facts.gate.deadline)}.` : '';
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: `Approval needed: ${title(facts)}`.slice(0, 150) } },
    ...factBlocks(facts),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Waiting for approval.${approved}${deadline}${facts.link ? ` <${facts.link}|Open in Conveyor>` : ''}`,
        },
      ],
    },
    {
      type: 'actions',
      block_id: 'gate',
      elements: [
        {
          type: 'button',
          action_id: gateActions.approve,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value,
        },
        {
          type: 'button',
          action_id: gateActions.reject,
          style: 'danger',
          text: { type: 'plain_text', text: 'Reject' },
          value,
          confirm: {
            title: { type: 'plain_text', text: 'Reject this rollout?' },
            text: { type: 'mrkdwn', text: 'Rejecting rolls the canary back to stable.' },
            confirm: { type: 'plain_text', text: 'Reject' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
      ],
    },
  ];
  return { text: `Approval needed: ${title(facts)}`, blocks };
}

/** The message once the gate has ended: who decided, how and when; no buttons. */
export function settledGateMessage(facts: GateFacts, outcome: GateOutcome): { text: string; blocks: Block[] } {
  const decided = outcome.decisions.filter((d) => d.decision === 'approved' || d.decision === 'rejected');
  const describe = (d: GateOutcome['decisions'][number]) =>
    `${d.decision} by *${escapeText(d.user)}* via ${escapeText(d.channel)} at ${slackDate(d.at)}` +
    (d.comment ? `: “${escapeText(d.comment)}”` : '');
  const summary =
    outcome.outcome === 'timed_out'
      ? `⏱️ Timed out at ${slackDate(outcome.at)}${outcome.reason ? ` (${escapeText(outcome.reason)})` : ''}.`
      : outcome.outcome === 'closed'
        ? `Closed at ${slackDate(outcome.at)}${outcome.reason ? `: ${escapeText(outcome.reason)}` : ''}.`
        : `${outcome.outcome === 'approved' ? '✅ Approved' : '❌ Rejected'}: ${decided.map(describe).join('; ')}.`;
  const heading = { approved: 'Approved', rejected: 'Rejected', timed_out: 'Timed out', closed: 'Closed' }[
    outcome.outcome
  ];
  return {
    text: `${heading}: ${title(facts)}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `${heading}: ${title(facts)}`.slice(0, 150) } },
      ...factBlocks(facts),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `${summary}${facts.link ? ` <${facts.link}|Open in Conveyor>` : ''}` }],
      },
    ],
  };
}
