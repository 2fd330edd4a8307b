/**
 * Plans that switch all traffic at once (docs/deployments.md#first-rollouts-and-rollbacks): a service's first
 * rollout (start it, then route to it: there is nothing to canary against) and a manual `rollback` to an earlier
 * release (start it unless its containers are still up, switch, retire the release it replaces).
 */
import type { RolloutStep } from '../deploy/rollout-plan';
import {
  allTo,
  backendsOf,
  instanceNames,
  slots,
  type RolloutOps,
  type StepResult,
  type StrategyRuntime,
} from './rollout-context';

/** Drain time when retiring a release outside its strategy's own settings. */
function drainSecondsOf(ops: RolloutOps): number {
  const spec = ops.record.release.spec;
  return (
    spec.rolling?.drainTimeoutSeconds ?? spec.blueGreen?.drainTimeoutSeconds ?? spec.canary?.drainTimeoutSeconds ?? 120
  );
}

/** The steps of a first rollout or a manual rollback. */
export function directRuntime(ops: RolloutOps): StrategyRuntime {
  const record = ops.record;
  const release = record.release;
  const all = slots(release.replicas);

  async function run(step: RolloutStep): Promise<StepResult> {
    switch (step.kind) {
      case 'start':
        return ops.start(release, all);
      case 'switch':
        await ops.setRoutes(allTo(backendsOf(release, all), ops.sticky));
        return { ok: true };
      case 'promote':
        if (!record.from) {
          await ops.setRoutes(allTo(backendsOf(release, all), ops.sticky));
        } else {
          await ops.retire(instanceNames(record.from, slots(record.from.replicas)), drainSecondsOf(ops));
        }
        return { ok: true };
      default:
        throw new Error(`a direct rollout has no ${step.kind} step`);
    }
  }

  async function rollback(): Promise<void> {
    const from = record.from;
    if (from) {
      const restored = await ops.start(from, slots(from.replicas));
      if (!restored.ok) throw new Error(`${from.version} cannot be restored: ${restored.reason}`);
      await ops.setRoutes(allTo(backendsOf(from, slots(from.replicas)), ops.sticky));
    }
    await ops.removeRevision(release.revision, drainSecondsOf(ops));
  }

  return {
    run,
    rollback,
    analysisTarget: () => ({
      canary: { version: release.version, track: 'stable' },
      stable: { version: record.from?.version ?? '', track: 'stable' },
    }),
  };
}
