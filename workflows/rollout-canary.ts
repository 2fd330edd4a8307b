/**
 * Canary (docs/deployments.md#canary): the new revision starts at `canary.replicas` beside stable with no traffic
 * (testers reach it with `X-Conveyor-Version: canary`); `set_weight` moves a share of traffic to it; promotion starts
 * it at full `replicas`, sends it all traffic as the new stable and removes the old. A rollback sends all traffic to
 * stable first — one route change — and only then drains and removes the canary.
 */
import { patched } from '@temporalio/workflow';
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

/** Canary rollbacks recorded before routes went first replay without it (STYLE.md 11). */
const routesFirstPatch = 'canary-rollback-routes-first';

/** The canary strategy's steps and rollback. */
export function canaryRuntime(ops: RolloutOps): StrategyRuntime {
  const record = ops.record;
  const release = record.release;
  const stable = record.from!;
  const canarySlots = slots(release.spec.canary?.replicas ?? 1);
  const drainSeconds = release.spec.canary?.drainTimeoutSeconds ?? 120;
  const stableBackends = () => backendsOf(stable, slots(stable.replicas));

  const weighted = (weight: number) => ({
    sticky: ops.sticky,
    stable: { weight: 100 - weight, backends: stableBackends() },
    canary: { weight, backends: backendsOf(release, canarySlots) },
    preview: [],
  });

  async function run(step: RolloutStep): Promise<StepResult> {
    switch (step.kind) {
      case 'start': {
        const started = await ops.start(release, canarySlots);
        if (!started.ok) return started;
        await ops.setRoutes(weighted(0));
        return started;
      }
      case 'set_weight':
        await ops.setRoutes(weighted(step.weight));
        return { ok: true };
      case 'promote': {
        const all = slots(release.replicas);
        const started = await ops.start(release, all);
        if (!started.ok) return started;
        await ops.setRoutes(allTo(backendsOf(release, all), ops.sticky));
        const extra = canarySlots.filter((slot) => slot > release.replicas);
        await ops.retire(
          [...instanceNames(stable, slots(stable.replicas)), ...instanceNames(release, extra)],
          drainSeconds,
        );
        return { ok: true };
      }
      default:
        throw new Error(`a canary has no ${step.kind} step`);
    }
  }

  async function rollback(): Promise<void> {
    // Until a promotion removes some, every stable instance still runs: all traffic goes back to them in one route
    // change, the first thing the rollback does (docs/benchmarks.md, "where the milliseconds go"). Rollouts
    // recorded before replay the old order (start or adopt stable, then route).
    if (patched(routesFirstPatch) && (await ops.trySetRoutes(allTo(stableBackends(), ops.sticky)))) {
      await ops.removeRevision(release.revision, drainSeconds);
      return;
    }
    // Stable may have lost instances if the promotion got far: start them again before sending traffic back.
    const restored = await ops.start(stable, slots(stable.replicas));
    if (!restored.ok) throw new Error(`stable ${stable.version} cannot be restored: ${restored.reason}`);
    await ops.setRoutes(allTo(stableBackends(), ops.sticky));
    await ops.removeRevision(release.revision, drainSeconds);
  }

  return {
    run,
    rollback,
    analysisTarget: () => ({
      canary: { version: release.version, track: 'canary' },
      stable: { version: stable.version, track: 'stable' },
    }),
  };
}
