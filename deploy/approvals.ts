/**
 * Approval gates (DEP-100 … DEP-106, docs/deployments.md#approvals): who may decide a gate, when it is approved
 * or rejected, and the audit record of every decision. The same checks back the update validators (a refused update
 * changes nothing and tells the caller why) and the signal handlers (a refused signal is recorded as refused).
 */
import type { GateSpec } from './spec';

/** Where a decision came from: `cli`, `api`, `slack`, `temporal-ui`, `timeout`, … */
export type Channel = string;

/** One recorded decision on a gate. */
export interface GateDecision {
  gate: string;
  user: string;
  decision: 'approved' | 'rejected' | 'refused' | 'timed_out';
  channel: Channel;
  /** ISO time. */
  at: string;
  comment?: string;
  /** Why a decision was refused. */
  reason?: string;
}

/** Group name → member user names, from conveyor.config.yml. */
export type Groups = Record<string, string[]>;

/** An approver's identity as given by the caller. */
export interface Approver {
  user: string;
  comment?: string;
  channel?: Channel;
}

/** The users a gate's `approvers` list names, groups expanded. */
export function allowedUsers(gate: GateSpec, groups: Groups): Set<string> {
  const users = new Set<string>();
  for (const entry of gate.approvers) {
    if (entry.startsWith('group:')) for (const member of groups[entry.slice('group:'.length)] ?? []) users.add(member);
    else users.add(entry);
  }
  return users;
}

/**
 * Why `user` may not decide `gate` now, or undefined when they may: unknown users and users outside the
 * approvers are refused, and so is anyone who has already decided this gate.
 */
export function refusalReason(
  gate: GateSpec,
  groups: Groups,
  decisions: readonly GateDecision[],
  user: string,
  decision: 'approve' | 'reject',
): string | undefined {
  if (!user.trim()) return `an approval needs a user: say who you are (--as USER)`;
  if (!allowedUsers(gate, groups).has(user)) {
    const missing = gate.approvers
      .filter((entry) => entry.startsWith('group:') && !groups[entry.slice('group:'.length)])
      .map((entry) => entry.slice('group:'.length));
    const note = missing.length > 0 ? ` (group ${missing.join(', ')} is not defined in conveyor.config.yml)` : '';
    return `${user} may not ${decision} gate '${gate.name}': approvers are ${gate.approvers.join(', ')}${note}`;
  }
  const earlier = decisions.find(
    (entry) =>
      entry.gate === gate.name &&
      entry.user === user &&
      (entry.decision === 'approved' || entry.decision === 'rejected'),
  );
  if (earlier) return `${user} has already ${earlier.decision} gate '${gate.name}'`;
  return undefined;
}

/** Where a gate stands given its decisions: one rejection rejects it; `required` distinct approvals approve it. */
export function gateState(gate: GateSpec, decisions: readonly GateDecision[]): 'pending' | 'approved' | 'rejected' {
  const mine = decisions.filter((entry) => entry.gate === gate.name);
  if (mine.some((entry) => entry.decision === 'rejected')) return 'rejected';
  const approvers = new Set(mine.filter((entry) => entry.decision === 'approved').map((entry) => entry.user));
  return approvers.size >= gate.required ? 'approved' : 'pending';
}
