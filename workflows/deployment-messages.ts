/**
 * The deployment workflow's messages (docs/deployments.md#controlling-a-deployment): its input, the rollout
 * request, every update, signal and query, and the status it reports. Client code (the CLI, `conveyor serve`, Slack)
 * imports this module only — it pulls in no workflow internals — and never writes a message name as a string.
 *
 * Every control exists twice under one name: as an **update**, whose validator refuses (with the reason, nothing
 * changed) an unknown gate, an unauthorised or repeated approver, or a control that does not apply now; and as a
 * **signal** with the same payload, for the Temporal UI and `temporal workflow signal`, whose refusals are recorded.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { TrafficSummary } from '../activities/analysis';
import type { Measurement } from '../deploy/analysis';
import type { GateDecision, Groups } from '../deploy/approvals';
import type { DeployState, Evidence, RolloutOutcome } from '../deploy/rollout-machine';
import type { DeploySpec, RouterKind, StrategyName } from '../deploy/spec';

/** Who sends a control, from where, and why. */
export interface Actor {
  user: string;
  /** `cli`, `api`, `slack`, `temporal-ui` (the default for signals, which carry no channel of their own) … */
  channel?: string;
  comment?: string;
}

/** A request to roll a version out (DESIGN.md §7). */
export interface RolloutRequest {
  /** Unique per request (a run's job: `<run id>/<job>`): a repeated request with the same id is accepted once. */
  id: string;
  /** What to deploy and how; `spec.version` and `spec.image` name the version. */
  spec: DeploySpec;
  requestedBy: Actor;
  /** Abort the current rollout (it rolls back) and run this one next, ahead of the queue. */
  supersede?: boolean;
  /** A workflow to signal with {@link rolloutFinishedSignal} when this rollout ends (a pipeline run's deploy job). */
  notify?: { workflowId: string };
  /** Approval groups (name → users) from conveyor.config.yml, resolved by whoever sends the request. */
  groups?: Groups;
}

/** What the `rollout` update answers. */
export interface RolloutAccepted {
  id: string;
  /** 0: running now; n: n-th in the queue. */
  position: number;
  /** True when a request with this id was already accepted (nothing new was queued). */
  duplicate: boolean;
}

/** `approve` / `reject`: the gate is optional and defaults to the one open now. */
export interface GateInput extends Actor {
  gate?: string;
}

/** `promote`: the next step, or with `full` every remaining step (never past an approval gate). */
export interface PromoteInput extends Actor {
  full?: boolean;
}

/** `rollback`: back to the previous version, or to `to` (a version in the history). */
export interface RollbackInput extends Actor {
  to?: string;
}

/** What a control update answers when it is accepted. */
export interface ControlAccepted {
  /** What happened, in words, e.g. `approved gate 'prod' (1 of 1)`. */
  message: string;
  state: DeployState;
}

/** How one rollout ended: the outcome signalled to the requester and kept in the history. */
export interface RolloutResult {
  id: string;
  service: string;
  environment: string;
  version: string;
  image: string;
  strategy: StrategyName | 'rollback';
  outcome: RolloutOutcome;
  reason?: string;
  evidence?: Evidence;
  requestedBy: Actor;
  startedAt: string;
  finishedAt: string;
  /** The incident a rollout that did not complete opened or joined (docs/investigations.md, "Deployments"). */
  incident?: string;
}

/** A release that runs (or ran): one revision of the service. */
export interface ReleaseSummary {
  revision: number;
  version: string;
  image: string;
  replicas: number;
}

/** A control that was sent, applied or refused: the audit trail beside the approvals. */
export interface ControlRecord {
  control: 'promote' | 'abort' | 'pause' | 'resume' | 'rollback' | 'rollout' | 'destroy';
  user: string;
  channel: string;
  at: string;
  comment?: string;
  outcome: 'applied' | 'refused';
  reason?: string;
}

/** What the `status` query returns (and `conveyor deploy status --json` prints). */
export interface DeploymentStatus {
  service: string;
  environment: string;
  /** The current rollout's state; when idle the last rollout's outcome; `pending` before the first. */
  state: DeployState;
  strategy: StrategyName | 'rollback' | null;
  stable: ReleaseSummary | null;
  /** The version being rolled out (canary, new colour, or the instances updated so far), with its traffic share. */
  canary: (ReleaseSummary & { weight: number }) | null;
  /** The step the rollout is at. */
  step: { index: number; kind: string; description: string; until?: string; deadline?: string } | null;
  /** Share of traffic (%) per track. */
  weights: { stable: number; canary: number };
  /** Every decision on every gate of the current (or last) rollout, refused ones included. */
  approvals: GateDecision[];
  /** The gate open now. */
  gate: { name: string; approvers: string[]; required: number; approvedBy: string[]; deadline: string } | null;
  /** Measurements of the current (or last) rollout, newest last (at most the last 100). */
  analysis: Measurement[];
  /** Stable's traffic just before the rollout began (DEP-008). */
  baseline: TrafficSummary | null;
  lastRollback: { version: string; reason: string; evidence?: Evidence; at: string } | null;
  /** Finished rollouts, oldest first (at most the last 500). */
  history: RolloutResult[];
  /** The rollout running now. */
  rollout: {
    id: string;
    version: string;
    image: string;
    requestedBy: Actor;
    startedAt: string;
    steps: string[];
  } | null;
  /** Requests waiting for their turn. */
  queue: Array<{ id: string; version: string; requestedBy: Actor }>;
  /** Set while a person (or an inconclusive analysis) holds the rollout. */
  held: { by: string; reason: string } | null;
  router: { kind: RouterKind; port: number; previewPort?: number } | null;
  /** Controls other than approvals, applied and refused (at most the last 100). */
  controls: ControlRecord[];
  /** Blue-green's old colour, still up for an instant rollback until `at`. */
  retiring: (ReleaseSummary & { at: string }) | null;
}

/** Input of the `deployment` workflow. */
export interface DeploymentInput {
  service: string;
  environment: string;
  /** What an earlier run of this workflow handed over when it continued as new. */
  carried?: unknown;
  /** Tunables, for tests. */
  options?: DeploymentOptions;
}

/** Tunables of a deployment workflow; every duration is an input (STYLE.md 10). */
export interface DeploymentOptions {
  /** Continue as new once the history has this many events, at the next safe point (default 4,000). */
  historyBudget?: number;
  /** Seconds between health checks of running instances during a rollout (default: the spec's interval). */
  watchIntervalSeconds?: number;
}

/** Roll a version out (update-with-start or update). */
export const rolloutUpdate = defineUpdate<RolloutAccepted, [RolloutRequest]>('rollout');
/** Approve the open gate (or `gate`). */
export const approveUpdate = defineUpdate<ControlAccepted, [GateInput]>('approve');
/** Reject the open gate (or `gate`): the rollout rolls back. */
export const rejectUpdate = defineUpdate<ControlAccepted, [GateInput]>('reject');
/** Skip the current pause or analysis (`full`: every remaining step up to promotion). */
export const promoteUpdate = defineUpdate<ControlAccepted, [PromoteInput]>('promote');
/** Abort the current rollout: all traffic back to stable, the new version removed. */
export const abortUpdate = defineUpdate<ControlAccepted, [Actor]>('abort');
/** Hold the rollout after its current step. */
export const pauseUpdate = defineUpdate<ControlAccepted, [Actor]>('pause');
/** Continue a held rollout. */
export const resumeUpdate = defineUpdate<ControlAccepted, [Actor]>('resume');
/** After a rollout: go back to the previous version (or `to`), at once while its containers are still up. */
export const rollbackUpdate = defineUpdate<ControlAccepted, [RollbackInput]>('rollback');
/** Stop the router and every container of the service and end the workflow (its history stays). */
export const destroyUpdate = defineUpdate<ControlAccepted, [Actor]>('destroy');

/** Signal forms of the controls above, same names and payloads (`{"user": "…", "comment": "…"}`). */
export const rolloutSignal = defineSignal<[RolloutRequest]>('rollout');
export const approveSignal = defineSignal<[GateInput]>('approve');
export const rejectSignal = defineSignal<[GateInput]>('reject');
export const promoteSignal = defineSignal<[PromoteInput]>('promote');
export const abortSignal = defineSignal<[Actor]>('abort');
export const pauseSignal = defineSignal<[Actor]>('pause');
export const resumeSignal = defineSignal<[Actor]>('resume');
export const rollbackSignal = defineSignal<[RollbackInput]>('rollback');
export const destroySignal = defineSignal<[Actor]>('destroy');

/** The deployment's state, as `conveyor deploy status --json` prints it. */
export const statusQuery = defineQuery<DeploymentStatus>('status');
/** One rollout's result by request id, once it has ended (null while queued or running, or unknown). */
export const rolloutResultQuery = defineQuery<RolloutResult | null, [string]>('rolloutResult');

/** Sent by the deployment to `RolloutRequest.notify.workflowId` when the rollout ends. */
export const rolloutFinishedSignal = defineSignal<[RolloutResult]>('rolloutFinished');
