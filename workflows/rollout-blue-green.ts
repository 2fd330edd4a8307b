/**
 * Blue-green (docs/deployments.md#blue-green, DEP-035 … DEP-042): the idle colour starts at full `replicas` and is
 * served on the preview port; it passes its health gate and the smoke test, waits for its approval, then takes all
 * traffic in one route change (a request sees one colour or the other, never a mix). During `monitor` health checks
 * and analysis keep running and a failure switches back at once; the old colour stays up for `scale_down_delay`
 * after the rollout so `rollback` is instant, then the deployment workflow removes it.
 */
import { routerContainerName } from '../deploy/names';
import type { RolloutStep } from '../deploy/rollout-plan';
import { waitingActivities } from './deployment-activities';
import {
  allTo,
  backendsOf,
  instanceNames,
  slots,
  type RolloutOps,
  type StepResult,
  type StrategyRuntime,
} from './rollout-context';

/** Inside the router container, the preview listener's port (activities/router-container.ts). */
const routerPreviewPort = 8081;

/** The blue-green strategy's steps and rollback. */
export function blueGreenRuntime(ops: RolloutOps): StrategyRuntime {
  const record = ops.record;
  const release = record.release;
  const stable = record.from!;
  const all = slots(release.replicas);
  const settings = release.spec.blueGreen!;

  async function run(step: RolloutStep): Promise<StepResult> {
    switch (step.kind) {
      case 'start': {
        const started = await ops.start(release, all);
        if (!started.ok) return started;
        await ops.setRoutes({
          ...allTo(backendsOf(stable, slots(stable.replicas)), ops.sticky),
          preview: backendsOf(release, all),
        });
        return started;
      }
      case 'smoke': {
        const smoke = settings.smoke!;
        const { service, environment } = ops.ref;
        const result = await waitingActivities(smoke.timeoutSeconds + 120, 30).runSmoke({
          service,
          environment,
          revision: release.revision,
          image: smoke.image,
          script: smoke.script,
          timeoutSeconds: smoke.timeoutSeconds,
          previewUrl: `http://${routerContainerName(service, environment)}:${routerPreviewPort}`,
          targets: instanceNames(release, all).map((name) => `http://${name}:${release.spec.port}`),
        });
        if (result.exitCode === 0 && !result.timedOut) return { ok: true };
        const what = result.timedOut ? `timed out after ${smoke.timeoutSeconds}s` : `exited with ${result.exitCode}`;
        return {
          ok: false,
          reason: `the smoke test ${what}`,
          evidence: { source: 'smoke test', detail: [`the smoke test ${what}`, ...result.logTail].join('\n') },
        };
      }
      case 'switch': {
        // The comparison window for the monitor's analysis: the old colour just before it lost its traffic.
        const interval = settings.analysis?.intervalSeconds ?? 10;
        const before = Date.now();
        await ops.setRoutes(allTo(backendsOf(release, all), ops.sticky));
        record.switchedAt = before;
        record.baselineWindow = { from: before - interval * 1000, to: before };
        return { ok: true };
      }
      case 'promote':
        // The old colour stays for scale_down_delay (instant rollback); the deployment workflow removes it then.
        if (settings.scaleDownDelaySeconds === 0) {
          await ops.retire(instanceNames(stable, slots(stable.replicas)), settings.drainTimeoutSeconds);
        }
        return { ok: true };
      default:
        throw new Error(`blue-green has no ${step.kind} step`);
    }
  }

  async function rollback(): Promise<void> {
    const restored = await ops.start(stable, slots(stable.replicas));
    if (!restored.ok)
      throw new Error(
        `the ${stable.colour ?? 'old'} colour (${stable.version}) cannot be restored: ${restored.reason}`,
      );
    await ops.setRoutes(allTo(backendsOf(stable, slots(stable.replicas)), ops.sticky));
    await ops.removeRevision(release.revision, settings.drainTimeoutSeconds);
  }

  return {
    run,
    rollback,
    analysisTarget: () => ({
      canary: { version: release.version, track: 'stable' },
      stable: { version: stable.version, track: 'stable', window: record.baselineWindow },
    }),
  };
}
