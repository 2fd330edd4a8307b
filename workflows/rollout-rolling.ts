/**
 * Rolling (docs/deployments.md#rolling, DEP-020 … DEP-025): slot by slot, in batches within `max_surge` and
 * `max_unavailable`. In a batch, the slots beyond the surge allowance are first taken out of rotation, drained and
 * stopped; then the batch's new instances start and must pass their health gate; then they enter rotation and the
 * remaining old ones of the batch are drained and stopped. Any failure rolls back every slot already touched, in
 * reverse order: the old instance back (started again when it was stopped) and healthy, in rotation, then the new
 * one drained and removed. Mixed versions serve side by side meanwhile (DEP-029).
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

/** The rolling strategy's steps and rollback. */
export function rollingRuntime(ops: RolloutOps): StrategyRuntime {
  const record = ops.record;
  const release = record.release;
  const stable = record.from!;
  const settings = release.spec.rolling ?? { batchSize: 1, maxSurge: 1, maxUnavailable: 0, drainTimeoutSeconds: 120 };
  record.rolling ??= { touched: [], rotation: {} };
  const state = record.rolling;
  const slotCount = Math.max(stable.replicas, release.replicas);
  const hasOld = (slot: number) => slot <= stable.replicas;

  /** The routes for the current rotation: each slot served by its old or new instance, or by none. */
  function rotationRoutes() {
    const backends = [];
    for (const slot of slots(slotCount)) {
      const serving = state.rotation[slot] ?? (hasOld(slot) ? 'old' : 'none');
      if (serving === 'old' && hasOld(slot)) backends.push(...backendsOf(stable, [slot]));
      if (serving === 'new' && slot <= release.replicas) backends.push(...backendsOf(release, [slot]));
    }
    return allTo(backends, ops.sticky);
  }

  /** Takes old instances out of rotation, drains and removes them. */
  async function takeOut(slotList: number[]): Promise<void> {
    for (const slot of slotList) state.rotation[slot] = 'none';
    await ops.setRoutes(rotationRoutes());
    await ops.retire(instanceNames(stable, slotList), settings.drainTimeoutSeconds);
  }

  async function batch(batchSlots: number[]): Promise<StepResult> {
    const surge = Math.min(batchSlots.length, settings.maxSurge);
    const unavailable = batchSlots.slice(surge).filter(hasOld);
    for (const slot of batchSlots) if (!state.touched.includes(slot)) state.touched.push(slot);
    if (unavailable.length > 0) await takeOut(unavailable);
    const started = await ops.start(release, batchSlots);
    if (!started.ok) return started;
    const replaced = batchSlots.filter((slot) => hasOld(slot) && state.rotation[slot] !== 'none');
    for (const slot of batchSlots) state.rotation[slot] = 'new';
    await ops.setRoutes(rotationRoutes());
    await ops.retire(instanceNames(stable, replaced), settings.drainTimeoutSeconds);
    return { ok: true };
  }

  async function run(step: RolloutStep): Promise<StepResult> {
    switch (step.kind) {
      case 'batch':
        return batch(step.slots);
      case 'promote': {
        // Old slots the new release has no replica for (it has fewer) leave rotation last.
        const extra = slots(stable.replicas).filter((slot) => slot > release.replicas);
        if (extra.length > 0) await takeOut(extra);
        return { ok: true };
      }
      default:
        throw new Error(`a rolling update has no ${step.kind} step`);
    }
  }

  async function rollback(): Promise<void> {
    for (const slot of [...state.touched].reverse()) {
      if (hasOld(slot)) {
        const restored = await ops.start(stable, [slot]);
        if (!restored.ok)
          throw new Error(`instance ${slot} of ${stable.version} cannot be restored: ${restored.reason}`);
        state.rotation[slot] = 'old';
      } else {
        delete state.rotation[slot];
      }
      await ops.setRoutes(rotationRoutes());
      await ops.retire(instanceNames(release, [slot]), settings.drainTimeoutSeconds);
    }
    // Whatever a failed batch left behind (an instance that never entered rotation).
    await ops.removeRevision(release.revision, 0);
  }

  return {
    run,
    rollback,
    analysisTarget: () => ({
      canary: { version: release.version, track: 'stable' },
      stable: { version: stable.version, track: 'stable' },
    }),
  };
}
