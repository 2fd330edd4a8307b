/**
 * The deployment activities (STYLE.md 5), wired by the worker with a Docker client: router, instances, health
 * checks, analysis, smoke tests and teardown. They run on the Docker task queue, on the host whose engine runs the
 * service — the routers and instances publish their ports on that host's 127.0.0.1.
 */
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import type { Measurement } from '../deploy/analysis';
import { deployLabels, deploymentWorkflowId, serviceNetworkName } from '../deploy/names';
import { measure as measureWindow, summarize, type MeasureInput, type TrafficSummary } from './analysis';
import { removeContainer, type DeploymentRef } from './deployment-docker';
import {
  imageId,
  listInstances as findInstances,
  removeInstances as removeContainers,
  runSmoke as runSmokeContainer,
  startInstances as startContainers,
  type FoundInstance,
  type InstanceRef,
  type SmokeInput,
  type SmokeResult,
  type StartInstancesInput,
} from './deployment-instances';
import { ConveyorError, toApplicationFailure } from './errors';
import { wrapDockerError } from './docker-errors';
import {
  watchHealth as watchInstances,
  waitHealthy as waitForInstances,
  type HealthFailure,
  type HealthInput,
  type HealthResult,
} from './health-check';
import {
  applyRoutes,
  drainBackends,
  readRoutes as readRouter,
  type RoutesApplied,
  type RouterState,
  type SetRoutesInput,
} from './router-admin';
import {
  ensureRouter as ensureRouterContainer,
  removeTarget,
  type EnsureRouterInput,
  type RouterEndpoint,
} from './router-container';
import { createStaticSecretStore, type SecretStore } from './secrets';

/** What the deployment activities need. */
export interface DeploymentActivityDeps {
  docker: Docker;
  /** The owning cluster's label value (as for runs). */
  cluster?: string;
  /** Where `${secrets.NAME}` in a service's env come from. */
  secrets?: SecretStore;
  /** Directory of Prometheus file_sd targets for routers (the embedded stack's `<dataDir>/prometheus/targets`). */
  prometheusTargets?: string;
  /** Prometheus' HTTP API, for `prometheus:` metrics. */
  prometheusUrl?: string;
}

/** What `destroyDeployment` removed. */
export interface DestroyResult {
  containers: number;
  networks: number;
}

/** Runs `body`, converting Conveyor errors for Temporal and engine errors into retryable infrastructure errors. */
async function guarded<T>(doing: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (Context.current().cancellationSignal.aborted) throw error;
    throw toApplicationFailure(error instanceof ConveyorError ? error : wrapDockerError(error, doing));
  }
}

function heartbeat(): () => void {
  const context = Context.current();
  return () => context.heartbeat();
}

/** Creates the deployment activities. */
export function createDeploymentActivities(deps: DeploymentActivityDeps) {
  const { docker, cluster } = deps;
  const secrets = deps.secrets ?? createStaticSecretStore({});

  return {
    /** Starts (or reuses, or recreates with new settings) the deployment's router; returns its admin port. */
    ensureRouter(input: EnsureRouterInput): Promise<RouterEndpoint> {
      return guarded('starting the router', () =>
        ensureRouterContainer({ docker, cluster, prometheusTargets: deps.prometheusTargets }, input),
      );
    },

    /** Serves a new route table; resolves once the router confirms it is live. */
    setRoutes(input: SetRoutesInput): Promise<RoutesApplied> {
      return guarded('changing routes', () => applyRoutes(docker, input));
    },

    /** The router's table, generation and in-flight requests. */
    readRoutes(input: DeploymentRef): Promise<RouterState> {
      return guarded('reading routes', () => readRouter(docker, input));
    },

    /** Waits for requests in flight to `names` to finish (up to `timeoutSeconds`). */
    drain(
      input: DeploymentRef & { names: string[]; timeoutSeconds: number },
    ): Promise<{ drained: boolean; waitedMs: number }> {
      const beat = heartbeat();
      const timer = setInterval(beat, 1000);
      return guarded('draining instances', () =>
        drainBackends(docker, input, Context.current().cancellationSignal),
      ).finally(() => clearInterval(timer));
    },

    /** Starts (or adopts) a revision's instances in `slots`. */
    startInstances(input: StartInstancesInput): Promise<InstanceRef[]> {
      return guarded('starting instances', () => startContainers(docker, cluster, secrets, input));
    },

    /** Stops and removes instances (missing ones are fine). */
    removeInstances(input: { names: string[]; stopSeconds?: number }): Promise<number> {
      return guarded('removing instances', () => removeContainers(docker, input.names, input.stopSeconds));
    },

    /** Every instance of the deployment on this host. */
    listInstances(input: DeploymentRef): Promise<FoundInstance[]> {
      return guarded('listing instances', () => findInstances(docker, input));
    },

    /** Waits until the instances are healthy, or one fails. */
    waitHealthy(input: HealthInput): Promise<HealthResult> {
      return guarded('checking health', () =>
        waitForInstances(docker, input, Context.current().cancellationSignal, heartbeat()),
      );
    },

    /** Follows instances in rotation; returns the first that fails. Runs until cancelled otherwise. */
    watchHealth(input: HealthInput & { intervalSeconds?: number }): Promise<HealthFailure> {
      return guarded('watching health', () =>
        watchInstances(docker, input, Context.current().cancellationSignal, heartbeat()),
      );
    },

    /** One analysis measurement over a window that starts now. */
    measure(input: MeasureInput): Promise<Measurement> {
      return guarded('measuring', () =>
        measureWindow(docker, deps.prometheusUrl, input, Context.current().cancellationSignal, heartbeat()),
      );
    },

    /** What a track served over the last `seconds` (the baseline before a rollout). */
    baseline(input: DeploymentRef & { track: 'stable' | 'canary'; seconds: number }): Promise<TrafficSummary> {
      return guarded('reading the baseline', () => summarize(docker, input));
    },

    /** Runs a blue-green smoke test. */
    runSmoke(input: SmokeInput): Promise<SmokeResult> {
      const beat = heartbeat();
      const timer = setInterval(beat, 1000);
      return guarded('running the smoke test', () =>
        runSmokeContainer(docker, cluster, input, Context.current().cancellationSignal),
      ).finally(() => clearInterval(timer));
    },

    /** The image's id; fails (not retried) when the host does not have it. */
    inspectImage(input: { image: string }): Promise<{ id: string }> {
      return guarded('inspecting the image', async () => ({ id: await imageId(docker, input.image) }));
    },

    /** Removes the router, every instance and smoke container, and the network of a deployment. */
    destroyDeployment(input: DeploymentRef): Promise<DestroyResult> {
      return guarded('destroying the deployment', async () => {
        const id = deploymentWorkflowId(input.service, input.environment);
        const containers = await docker.listContainers({
          all: true,
          filters: { label: [`${deployLabels.deployment}=${id}`] },
        });
        for (const container of containers) await removeContainer(docker, container.Id);
        let networks = 0;
        const name = serviceNetworkName(input.service, input.environment);
        for (const network of await docker.listNetworks({ filters: { name: [name] } })) {
          if (network.Name !== name) continue;
          await docker
            .getNetwork(network.Id)
            .remove()
            .catch(() => undefined);
          networks += 1;
        }
        removeTarget({ docker, prometheusTargets: deps.prometheusTargets }, input);
        return { containers: containers.length, networks };
      });
    },
  };
}

/** The deployment activities' type, for workflow proxies. */
export type DeploymentActivities = ReturnType<typeof createDeploymentActivities>;
