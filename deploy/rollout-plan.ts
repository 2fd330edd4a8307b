/**
 * A rollout as a list of steps (docs/deployments.md#strategies): each strategy compiles its settings into a plan,
 * and one state machine (rollout-machine.ts) walks every plan the same way — approvals, pauses, analysis, holds and
 * rollback behave alike whatever the strategy. What a `start`, `switch` or `batch` step does is the strategy's own.
 */
import type { AnalysisSpec, DeploySpec, GateSpec } from './spec';

/** One step of a rollout. */
export type RolloutStep =
  /** Wait for a gate's approvals. */
  | { kind: 'approval'; gate: GateSpec }
  /** Start the new revision's instances and wait until every one is healthy. */
  | { kind: 'start'; replicas: number }
  /** Canary: send `weight` % of traffic to the new revision. */
  | { kind: 'set_weight'; weight: number }
  /** Wait `seconds` (a durable timer), or for `promote` when there are none. `monitor`: blue-green's window. */
  | { kind: 'pause'; seconds?: number; monitor?: boolean }
  /** Take `count` measurements, one per interval. */
  | { kind: 'analysis'; count: number; analysis: AnalysisSpec }
  /** From here on, the background analysis runs (takes no time). */
  | { kind: 'begin_analysis'; analysis: AnalysisSpec }
  /** Blue-green: run the smoke test against the idle colour. */
  | { kind: 'smoke' }
  /** Blue-green and rollbacks: send all traffic to the new revision at once. */
  | { kind: 'switch' }
  /** Rolling: replace the instances in these slots (1-based). */
  | { kind: 'batch'; batch: number; slots: number[] }
  /** Make the new revision the stable one and retire the old. */
  | { kind: 'promote' };

/** What kind of rollout a plan is. */
export type PlanKind = 'rolling' | 'blue_green' | 'canary' | 'initial' | 'rollback';

/** A compiled rollout. */
export interface RolloutPlan {
  kind: PlanKind;
  steps: RolloutStep[];
}

/** A short description of a step for status lines (`set_weight 20`, `pause 30 s`, `approval 'prod'`). */
export function describeStep(step: RolloutStep): string {
  switch (step.kind) {
    case 'approval':
      return `approval '${step.gate.name}'`;
    case 'start':
      return `start ${step.replicas} instance${step.replicas === 1 ? '' : 's'}`;
    case 'set_weight':
      return `set_weight ${step.weight}`;
    case 'pause':
      return step.seconds === undefined
        ? 'pause (until promoted)'
        : `${step.monitor ? 'monitor' : 'pause'} ${step.seconds} s`;
    case 'analysis':
      return `analysis ×${step.count}`;
    case 'begin_analysis':
      return 'background analysis';
    case 'smoke':
      return 'smoke test';
    case 'switch':
      return 'switch';
    case 'batch':
      return `batch ${step.batch} (instance${step.slots.length === 1 ? '' : 's'} ${step.slots.join(', ')})`;
    case 'promote':
      return 'promote';
  }
}

/** Splits slots 1…n into rolling batches of `min(batch_size, max_surge + max_unavailable)`. */
export function rollingBatches(
  replicas: number,
  batchSize: number,
  maxSurge: number,
  maxUnavailable: number,
): number[][] {
  const size = Math.max(1, Math.min(batchSize, maxSurge + maxUnavailable));
  const batches: number[][] = [];
  for (let slot = 1; slot <= replicas; slot += size) {
    batches.push(Array.from({ length: Math.min(size, replicas - slot + 1) }, (_, offset) => slot + offset));
  }
  return batches;
}

/**
 * The plan of a rollout of `spec`: `initial` when nothing is live yet (start it, then make it stable), else the
 * strategy's steps. A deploy job's own `approval:` gate comes first either way.
 */
export function planRollout(spec: DeploySpec, hasStable: boolean): RolloutPlan {
  const gate: RolloutStep[] = spec.approval ? [{ kind: 'approval', gate: spec.approval }] : [];
  if (!hasStable) {
    return { kind: 'initial', steps: [...gate, { kind: 'start', replicas: spec.replicas }, { kind: 'promote' }] };
  }
  if (spec.strategy === 'canary' && spec.canary) {
    const canary = spec.canary;
    const steps: RolloutStep[] = [...gate, { kind: 'start', replicas: canary.replicas }];
    let analysing = false;
    for (const step of canary.steps) {
      if (step.kind === 'set_weight') steps.push({ kind: 'set_weight', weight: step.weight });
      else if (step.kind === 'pause')
        steps.push(step.seconds === undefined ? { kind: 'pause' } : { kind: 'pause', seconds: step.seconds });
      else if (step.kind === 'analysis') steps.push({ kind: 'analysis', count: step.count, analysis: step.analysis });
      else steps.push({ kind: 'approval', gate: step.gate });
      // The background analysis starts with the first traffic to the canary: before it, it could only be inconclusive.
      if (!analysing && canary.analysis && step.kind === 'set_weight' && step.weight > 0) {
        steps.push({ kind: 'begin_analysis', analysis: canary.analysis });
        analysing = true;
      }
    }
    steps.push({ kind: 'promote' });
    return { kind: 'canary', steps };
  }
  if (spec.strategy === 'blue_green' && spec.blueGreen) {
    const blueGreen = spec.blueGreen;
    const steps: RolloutStep[] = [...gate, { kind: 'start', replicas: spec.replicas }];
    if (blueGreen.smoke) steps.push({ kind: 'smoke' });
    if (blueGreen.approval) steps.push({ kind: 'approval', gate: blueGreen.approval });
    steps.push({ kind: 'switch' });
    if (blueGreen.analysis) steps.push({ kind: 'begin_analysis', analysis: blueGreen.analysis });
    if (blueGreen.monitorSeconds > 0) steps.push({ kind: 'pause', seconds: blueGreen.monitorSeconds, monitor: true });
    steps.push({ kind: 'promote' });
    return { kind: 'blue_green', steps };
  }
  const rolling = spec.rolling ?? { batchSize: 1, maxSurge: 1, maxUnavailable: 0, drainTimeoutSeconds: 120 };
  const batches = rollingBatches(spec.replicas, rolling.batchSize, rolling.maxSurge, rolling.maxUnavailable);
  return {
    kind: 'rolling',
    steps: [
      ...gate,
      ...batches.map((slots, index): RolloutStep => ({ kind: 'batch', batch: index + 1, slots })),
      { kind: 'promote' },
    ],
  };
}

/** The plan of a manual rollback to an earlier release: start it (unless still up), switch, retire the current. */
export function planRollback(targetRunning: boolean, replicas: number): RolloutPlan {
  const steps: RolloutStep[] = targetRunning ? [] : [{ kind: 'start', replicas }];
  return { kind: 'rollback', steps: [...steps, { kind: 'switch' }, { kind: 'promote' }] };
}
