/**
 * What every rollout strategy shares inside the deployment workflow: the rollout's record (plain JSON, carried
 * across continue-as-new), the release it deploys, and the operations every strategy builds on — serve routes,
 * start a release's instances behind a health gate, take instances out of rotation and remove them.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { TrafficSummary } from '../activities/analysis';
import type { AnalysisTally } from '../deploy/analysis';
import type { Groups } from '../deploy/approvals';
import { instanceName } from '../deploy/names';
import type { IntendedBackend, RouteIntent } from '../deploy/route-table';
import type { Evidence, RolloutProgress } from '../deploy/rollout-machine';
import type { RolloutPlan, RolloutStep } from '../deploy/rollout-plan';
import type { DeploySpec } from '../deploy/spec';
import { quickActivities, waitingActivities } from './deployment-activities';
import type { Actor, RolloutRequest } from './deployment-messages';

/** One revision of the service: what runs, and the spec it was deployed with. */
export interface Release {
  revision: number;
  version: string;
  image: string;
  replicas: number;
  spec: DeploySpec;
  /** Blue-green's colour (the first release is blue). */
  colour?: 'blue' | 'green';
}

/** Where one rollout stands; plain JSON, carried as is when the workflow continues as new mid-rollout. */
export interface RolloutRecord {
  id: string;
  request: RolloutRequest | null;
  requestedBy: Actor;
  /** The release being deployed. */
  release: Release;
  /** The release that was stable when the rollout started (null for the first one). */
  from: Release | null;
  plan: RolloutPlan;
  progress: RolloutProgress;
  startedAt: string;
  /** The routes last served. */
  routes: RouteIntent;
  groups: Groups;
  /** The analysis step in progress and its counts (resumed after continue-as-new). */
  stepTally: { taskId: number; tally: AnalysisTally } | null;
  backgroundTally: AnalysisTally;
  baseline: TrafficSummary | null;
  /** New-revision instances that passed their health gate (the health watch follows them). */
  healthy: string[];
  /** Blue-green: when traffic switched to the new colour (ms since the epoch). */
  switchedAt?: number;
  /** Blue-green: the old colour's last window before the switch, the monitor's analysis compares with it. */
  baselineWindow?: { from: number; to: number };
  /** Rolling: slots touched, in order, and which revision serves each slot now. */
  rolling?: { touched: number[]; rotation: Record<string, 'old' | 'new' | 'none'> };
}

/** What a strategy step did. */
export type StepResult = { ok: true } | { ok: false; reason: string; evidence: Evidence };

/** What a strategy provides to the rollout driver. */
export interface StrategyRuntime {
  /** Runs a strategy step: start, set_weight, smoke, switch, batch, promote. */
  run(step: RolloutStep, index: number): Promise<StepResult>;
  /** Undoes the rollout: all traffic back to the release that was stable, the new revision removed. */
  rollback(): Promise<void>;
  /** What the analysis compares now: the new release's track, and stable's track and window. */
  analysisTarget(): {
    canary: { version: string; track: 'stable' | 'canary' };
    stable: { version: string; track: 'stable' | 'canary'; window?: { from: number; to: number } };
  };
}

/** Slots 1…n. */
export function slots(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index + 1);
}

/** The container names of a release's instances in `slotList`. */
export function instanceNames(release: Release, slotList: readonly number[]): string[] {
  return slotList.map((slot) => instanceName(release.spec.service, release.spec.environment, release.revision, slot));
}

/** A release's instances as router backends. */
export function backendsOf(release: Release, slotList: readonly number[]): IntendedBackend[] {
  return instanceNames(release, slotList).map((name) => ({ name, version: release.version, port: release.spec.port }));
}

/** Routes with `stable` taking all traffic and nothing else. */
export function allTo(stable: IntendedBackend[], sticky: boolean): RouteIntent {
  return { sticky, stable: { weight: 100, backends: stable }, canary: { weight: 0, backends: [] }, preview: [] };
}

/** The one-line reason of an activity failure. */
export function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return cause.message;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The operations strategies build on, bound to one rollout's record. */
export class RolloutOps {
  private readonly quick = quickActivities();

  constructor(readonly record: RolloutRecord) {}

  get ref(): { service: string; environment: string } {
    return { service: this.record.release.spec.service, environment: this.record.release.spec.environment };
  }

  get sticky(): boolean {
    return this.record.release.spec.router.sticky;
  }

  /** Serves `routes` and remembers them; resolves once the router confirms. */
  async setRoutes(routes: RouteIntent): Promise<void> {
    await this.quick.setRoutes({ ...this.ref, routes });
    this.record.routes = routes;
  }

  /**
   * Serves `routes` when every backend in them runs; false (nothing changed) when one is not running, so the caller
   * can start it first. Other failures are thrown as by `setRoutes`.
   */
  async trySetRoutes(routes: RouteIntent): Promise<boolean> {
    try {
      await this.setRoutes(routes);
      return true;
    } catch (error) {
      const cause = error instanceof ActivityFailure ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === 'InstanceNotRunningError') return false;
      throw error;
    }
  }

  /**
   * Starts (or adopts) a release's instances in `slotList` and waits until the ones it started are healthy.
   * Adopted instances are running already and were healthy when they went into rotation.
   */
  async start(release: Release, slotList: readonly number[]): Promise<StepResult> {
    const started = await this.quick.startInstances({
      ...this.ref,
      revision: release.revision,
      version: release.version,
      image: release.image,
      port: release.spec.port,
      env: release.spec.env,
      slots: [...slotList],
    });
    const fresh = started.filter((instance) => !instance.adopted).map((instance) => instance.name);
    if (fresh.length > 0) {
      const check = release.spec.healthCheck;
      const gate = waitingActivities(check.startTimeoutSeconds + 120, Math.max(20, check.timeoutSeconds * 3));
      const result = await gate.waitHealthy({ instances: fresh, port: release.spec.port, healthCheck: check });
      if (!result.healthy) {
        return {
          ok: false,
          reason: `${result.failure.instance} is not healthy: ${result.failure.message}`,
          evidence: { source: 'health check', instance: result.failure.instance, detail: result.failure.message },
        };
      }
    }
    if (release.revision === this.record.release.revision) {
      for (const instance of started)
        if (!this.record.healthy.includes(instance.name)) this.record.healthy.push(instance.name);
    }
    return { ok: true };
  }

  /** Waits for requests in flight to `names` to finish (within `drainSeconds`), then removes them. */
  async retire(names: readonly string[], drainSeconds: number): Promise<void> {
    if (names.length === 0) return;
    // Out of the health watch first: these instances go away on purpose.
    this.record.healthy = this.record.healthy.filter((name) => !names.includes(name));
    if (drainSeconds > 0) {
      await waitingActivities(drainSeconds + 60).drain({
        ...this.ref,
        names: [...names],
        timeoutSeconds: drainSeconds,
      });
    }
    await this.quick.removeInstances({ names: [...names] });
  }

  /** Removes every instance of `revision` found on the host (rollback cleanup, whatever a step left). */
  async removeRevision(revision: number, drainSeconds: number): Promise<void> {
    const found = await this.quick.listInstances(this.ref);
    await this.retire(
      found.filter((instance) => instance.revision === revision).map((instance) => instance.name),
      drainSeconds,
    );
  }
}
