/**
 * Slack messages of approval gates, kept in step by the deployment workflow itself (docs/control-plane.md#slack):
 * when a gate starts waiting it posts the message (an activity on the workflow's task queue), when an approval
 * arrives that does not yet decide it the message is redrawn, and when the gate is decided — from any channel —,
 * times out, or the rollout leaves it (abort, destroy) the message is settled: who decided, how and when, no
 * buttons. The notices live in the workflow's memory, so they survive continue-as-new and a gate is never
 * announced twice; the workflow continues as new only once every notice is idle.
 *
 * Slack being down never holds a rollout: a notice whose activity fails for good is given up and logged.
 */
import { condition, log, patched, proxyActivities } from '@temporalio/workflow';
import type { GateFacts, GateOutcome } from '../activities/slack-gate-message';
import type { SlackActivities, SlackMessageRef } from '../activities/slack-notify';
import type { DeploymentStatus } from './deployment-messages';

/** One gate's message. */
export interface GateNotice {
  rollout: string;
  gate: string;
  /** When the gate was first seen open (decisions from then on are this gate's). */
  openedAt: string;
  /** The posted message; null when Slack is not configured for the environment (or posting failed for good). */
  message: SlackMessageRef | null;
  /** The approvers the message shows. */
  drawn: string[];
  facts: GateFacts;
  settled: boolean;
}

/** Settled notices kept (for the record; older ones are dropped). */
const keepSettled = 20;

const slack = proxyActivities<SlackActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
});

type Work =
  | { kind: 'announce'; facts: GateFacts; rollout: string; gate: string }
  | { kind: 'refresh'; notice: GateNotice; facts: GateFacts }
  | { kind: 'settle'; notice: GateNotice; outcome: GateOutcome };

/** What the message shows, from the deployment's status. */
export function gateFacts(status: DeploymentStatus, gate: NonNullable<DeploymentStatus['gate']>): GateFacts {
  const latest = status.analysis.at(-1);
  return {
    service: status.service,
    environment: status.environment,
    gate: {
      name: gate.name,
      approvers: gate.approvers,
      required: gate.required,
      deadline: gate.deadline || undefined,
      approvedBy: gate.approvedBy,
    },
    stable: status.stable && { version: status.stable.version },
    canary: status.canary && { version: status.canary.version, weight: status.canary.weight },
    metrics: (latest?.metrics ?? []).map((metric) => ({
      name: metric.name,
      canary: metric.value,
      stable: metric.stable,
      condition: metric.condition,
      verdict: metric.verdict,
    })),
  };
}

/** How a gate that is no longer open ended, from the decisions made since it opened. */
export function gateOutcome(notice: GateNotice, status: DeploymentStatus, now: string): GateOutcome {
  const decisions = status.approvals.filter(
    (decision) => decision.gate === notice.gate && decision.at >= notice.openedAt,
  );
  const timedOut = decisions.find((decision) => decision.decision === 'timed_out');
  const approvals = decisions.filter((decision) => decision.decision === 'approved');
  if (decisions.some((decision) => decision.decision === 'rejected')) {
    return { outcome: 'rejected', decisions, at: decisions.find((d) => d.decision === 'rejected')!.at };
  }
  if (timedOut) return { outcome: 'timed_out', decisions, at: timedOut.at, reason: timedOut.comment };
  if (new Set(approvals.map((decision) => decision.user)).size >= notice.facts.gate.required) {
    return { outcome: 'approved', decisions, at: approvals.at(-1)!.at };
  }
  const reason = status.held
    ? `held by ${status.held.by}`
    : `the rollout moved on without a decision (${status.state})`;
  return { outcome: 'closed', decisions, at: now, reason };
}

function nextWork(notices: GateNotice[], status: DeploymentStatus): Work | undefined {
  const open = status.gate && status.rollout ? { rollout: status.rollout.id, gate: status.gate } : undefined;
  const isOpen = (notice: GateNotice) => open?.rollout === notice.rollout && open.gate.name === notice.gate;
  const closing = notices.find((notice) => !notice.settled && !isOpen(notice));
  if (closing) {
    return { kind: 'settle', notice: closing, outcome: gateOutcome(closing, status, new Date().toISOString()) };
  }
  if (!open) return undefined;
  const notice = notices.find(isOpen);
  if (!notice)
    return { kind: 'announce', facts: gateFacts(status, open.gate), rollout: open.rollout, gate: open.gate.name };
  if (notice.message && notice.drawn.join(',') !== open.gate.approvedBy.join(',')) {
    return { kind: 'refresh', notice, facts: gateFacts(status, open.gate) };
  }
  return undefined;
}

/**
 * Keeps the gate messages of a deployment in step with `status()` until the workflow ends or continues as new.
 * `idle()` is true when nothing is being sent and nothing is due.
 */
export function followGateNotices(notices: GateNotice[], status: () => DeploymentStatus): { idle: () => boolean } {
  // Deployments started before gate messages existed replay without them.
  if (!patched('slack-gate-notices')) return { idle: () => true };
  let busy = false;
  const perform = async (work: Work) => {
    switch (work.kind) {
      case 'announce': {
        // Recorded before the activity, so the gate is announced once even if the workflow moves on meanwhile.
        const notice: GateNotice = {
          rollout: work.rollout,
          gate: work.gate,
          openedAt: new Date().toISOString(),
          message: null,
          drawn: work.facts.gate.approvedBy ?? [],
          facts: work.facts,
          settled: false,
        };
        notices.push(notice);
        notice.message = await slack.announceGate(work.facts).catch((error: unknown) => {
          log.warn('could not post the gate message to Slack', { gate: work.gate, error: String(error) });
          return null;
        });
        return;
      }
      case 'refresh':
        work.notice.drawn = work.facts.gate.approvedBy ?? [];
        work.notice.facts = work.facts;
        await slack.refreshGate({ message: work.notice.message!, facts: work.facts }).catch((error: unknown) => {
          log.warn('could not update the gate message in Slack', { gate: work.notice.gate, error: String(error) });
        });
        return;
      case 'settle': {
        work.notice.settled = true;
        if (work.notice.message) {
          await slack
            .settleGate({ message: work.notice.message, facts: work.notice.facts, outcome: work.outcome })
            .catch((error: unknown) => {
              log.warn('could not settle the gate message in Slack', { gate: work.notice.gate, error: String(error) });
            });
        }
        const settled = notices.filter((notice) => notice.settled);
        if (settled.length > keepSettled) notices.splice(notices.indexOf(settled[0]!), 1);
        return;
      }
    }
  };
  void (async () => {
    for (;;) {
      await condition(() => nextWork(notices, status()) !== undefined);
      busy = true;
      try {
        await perform(nextWork(notices, status())!);
      } finally {
        busy = false;
      }
    }
  })();
  return { idle: () => !busy && nextWork(notices, status()) === undefined };
}
