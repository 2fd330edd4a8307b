/**
 * Builds Conveyor's workers: one polling the workflow task queue, one polling `<queue>-docker` for container
 * activities (DESIGN.md §2). The worker entry point and the tests both use this, so tests run the real wiring.
 */
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type Docker from 'dockerode';
import { createDockerResourceActivities, createDockerStepActivities } from '../activities';
import { createDeploymentActivities } from '../activities/deployment';
import { createDeployJobActivities } from '../activities/deploy-job';
import { approvalGroups } from '../config/approval-groups';
import { createArtifactActivities } from '../activities/artifacts/activities';
import { createImageBuildActivities } from '../activities/image-build';
import { createRetentionActivities } from '../activities/artifacts/retention';
import { createInvestigationActivities } from '../activities/investigation/activities';
import { createNarrativeActivities } from '../activities/investigation/narrate';
import type { LogStore } from '../activities/log-store';
import type { SecretStore } from '../activities/secrets';
import type { ArtifactStore } from '../activities/store/store';
import { createSlackActivities } from '../activities/slack-notify';
import type { RegistriesSettings } from '../config/registries';
import type { SlackSettings } from '../config/slack';
import { artifactSettings, type ArtifactSettings } from '../config/artifacts-config';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCommitStatusActivities } from '../activities/source/commit-status';
import { GitRepositories } from '../activities/source/repositories';
import { createSourceActivities } from '../activities/source/source-activities';
import { SourceTrees } from '../activities/source/source-trees';
import { defaultStepImage } from '../pipeline';
import { credentialsFor, type ProvidersSettings } from '../config/providers';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { loadConfig } from './config';
import { createStoreFromConfig, scratchDir, sourceTreesDir } from './stores';
import type { WorkerCapacity } from './capacity';
import { engineTaskQueue, poolTaskQueue } from '../pipeline/runner-pool';

/** What the workers need: a server connection and the real clients activities are wired to. */
export interface ConveyorWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  /** The workflow task queue; container activities use `<taskQueue>-docker`. */
  taskQueue: string;
  docker: Docker;
  logs: LogStore;
  /** A prebuilt workflow bundle (tests share one); by default the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  /** Where `${secrets.NAME}` values come from. */
  secrets?: SecretStore;
  /** Heartbeat interval of step activities in ms. */
  heartbeatMs?: number;
  /** The owning cluster's label value for Docker resources (`clusterLabel`); the sweeper only removes those. */
  cluster?: string;
  /** The `providers:` settings (commit statuses, repository credentials; docs/triggers.md). */
  providers?: () => ProvidersSettings | undefined;
  /** The API server's address, for links in commit statuses when `providers.public_url` is not set. */
  apiAddress?: string;
  /** Where the worker keeps mirrors of remote repositories (default: a directory under the system's tmp). */
  gitCacheDir?: string;
  /** Image for steps that name none, for pipelines the worker reads itself (schedules). */
  defaultImage?: string;
  /**
   * Where deployments register their routers with Prometheus, and where they query it (docs/deployments.md;
   * default: the configured Prometheus).
   */
  prometheus?: { targets?: string; url?: string };
  /** The artifact store (default: the configured one, see workers/stores.ts). */
  store?: ArtifactStore;
  /** Local scratch directory for artifact transfers (default: the data dir's `tmp/`). */
  scratchDir?: string;
  /** The host's shared source trees for overlay workspaces (default: the data dir's `source-trees/`). */
  sourceTrees?: SourceTrees;
  /** Quota, compression and retention policies (default: from conveyor.config.yml). */
  artifactSettings?: ArtifactSettings;
  /** The `registries:` section: credentials for pulling step images (default: conveyor.config.yml's). */
  registries?: () => RegistriesSettings | undefined;
  /** The `slack:` section gate messages use (default: conveyor.config.yml's, re-read per message). */
  slack?: () => SlackSettings | undefined;
  /**
   * A Temporal client for activities that read runs and start workflows (investigations); default: a lazy
   * connection to the configured server.
   */
  client?: Client;
  /** The runner pools and slots (default: `CONVEYOR_POOLS` and friends; see workers/capacity.ts). */
  capacity?: Partial<WorkerCapacity>;
}

/** Creates the workflow worker and the Docker activity worker; run them together with `runWorkers`. */
export async function createConveyorWorkers(deps: ConveyorWorkerDeps): Promise<Worker[]> {
  const config = loadConfig();
  const settings = deps.artifactSettings ?? artifactSettings(config.file);
  const store = deps.store ?? createStoreFromConfig(config);
  const client =
    deps.client ??
    // The same settings as the worker's own connection: address, TLS material, API key (docs/operations.md).
    new Client({ connection: Connection.lazy(temporalConnectionOptions(config.temporal)), namespace: deps.namespace });
  const investigations = createInvestigationActivities({ client, logs: deps.logs, store, docker: deps.docker });
  const workflowSource = deps.workflowBundle
    ? { workflowBundle: deps.workflowBundle }
    : { workflowsPath: require.resolve('../workflows') };
  const capacity = { ...config.worker, ...deps.capacity };
  const workflowWorker = await Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    ...workflowSource,
    maxConcurrentWorkflowTaskExecutions: capacity.maxConcurrentWorkflowTasks,
    shutdownGraceTime: capacity.shutdownGraceSeconds * 1000,
    // Light activities beside the workflows: retention touches only the store, gate messages only Slack; commit
    // statuses (docs/triggers.md); investigations read Temporal and the stores (docs/investigations.md); a deploy
    // job's request reaches its deployment workflow (docs/deployments.md).
    activities: {
      ...createRetentionActivities({ store, settings }),
      ...createSlackActivities({ settings: deps.slack ?? (() => loadConfig().file.slack) }),
      ...createCommitStatusActivities({
        providers: deps.providers ?? (() => config.file.providers),
        apiAddress: deps.apiAddress,
      }),
      ...investigations,
      ...createNarrativeActivities({ store }),
      ...createDeployJobActivities({
        client: new Client({ connection: deps.connection, namespace: deps.namespace }),
        groups: () => approvalGroups(loadConfig().file),
      }),
    },
  });
  const engineId = capacity.engineId ?? (await deps.docker.info()).ID;
  const dockerActivities = {
    ...createDockerStepActivities({
      engineId,
      docker: deps.docker,
      logs: deps.logs,
      secrets: deps.secrets,
      heartbeatMs: deps.heartbeatMs,
      cluster: deps.cluster,
      registries: deps.registries ?? (() => config.file.registries),
    }),
    ...createDockerResourceActivities({ docker: deps.docker, cluster: deps.cluster }),
    ...createSourceActivities({
      repositories: new GitRepositories({
        cacheDir: deps.gitCacheDir ?? path.join(tmpdir(), 'conveyor-git'),
        credentials: (url) => credentialsFor(deps.providers?.() ?? config.file.providers, process.env, url),
      }),
      defaultImage: deps.defaultImage ?? defaultStepImage,
      store,
      docker: deps.docker,
      spoolDir: deps.scratchDir ?? scratchDir(config),
      cluster: deps.cluster,
      trees: deps.sourceTrees ?? new SourceTrees(sourceTreesDir(config)),
    }),
    ...createDeploymentActivities({
      docker: deps.docker,
      cluster: deps.cluster,
      secrets: deps.secrets,
      prometheusTargets: (deps.prometheus ?? config.prometheus).targets,
      prometheusUrl: (deps.prometheus ?? config.prometheus).url,
    }),
    ...createArtifactActivities({
      store,
      docker: deps.docker,
      spoolDir: deps.scratchDir ?? scratchDir(config),
      cluster: deps.cluster,
      quotaBytes: settings.quotaBytes,
      compression: settings.compression,
      heartbeatMs: deps.heartbeatMs,
    }),
    // A deploy job's build_image (docs/deployments.md#building-the-image): heavy, so beside the steps.
    ...createImageBuildActivities({
      store,
      docker: deps.docker,
      spoolDir: deps.scratchDir ?? scratchDir(config),
      heartbeatMs: deps.heartbeatMs,
    }),
    // Checks inspect images on this host; the rest are here too so a Docker host can serve a whole investigation.
    ...investigations,
  };
  // One activity worker per runner pool served (docs/operations.md, "Runner pools"), each with its own slots, and
  // one on the pool's queue of this Docker engine, where the jobs it started continue ("A job stays on its Docker
  // engine").
  const dockerWorkers = capacity.pools.flatMap((pool) => {
    const poolQueue = poolTaskQueue(deps.taskQueue, pool);
    const engineQueue = engineTaskQueue(poolQueue, engineId);
    const activities = { ...dockerActivities, claimJobHost: () => Promise.resolve({ queue: engineQueue }) };
    return [poolQueue, engineQueue].map((queue) => dockerPoolWorker(deps, queue, activities, capacity));
  });
  return [workflowWorker, ...(await Promise.all(dockerWorkers))];
}

/** The worker of one of a pool's Docker task queues. */
function dockerPoolWorker(
  deps: ConveyorWorkerDeps,
  taskQueue: string,
  activities: object,
  capacity: WorkerCapacity,
): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue,
    activities,
    // Container steps are mostly waiting; the limit protects the Docker engine, not the CPU. At capacity the
    // worker stops polling and the pool's other workers take the work.
    maxConcurrentActivityTaskExecutions: capacity.maxConcurrentSteps,
    // Cancellation reaches an activity only with a heartbeat response; the default throttle (80 % of the heartbeat
    // timeout) would let a cancelled step run for many seconds.
    maxHeartbeatThrottleInterval: '1 second',
    // A stopping worker lets running steps finish this long; then they are handed over, not cancelled
    // (workers/shutdown.ts).
    shutdownGraceTime: capacity.shutdownGraceSeconds * 1000,
  });
}

/** Runs workers until one stops (or all are shut down), shutting the others down with it. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  const runs = workers.map((worker) => worker.run());
  try {
    await Promise.race(runs);
  } finally {
    for (const worker of workers) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    }
    // Every worker must have released the connection before anyone closes it.
    await Promise.allSettled(runs);
  }
}

/** Runs Conveyor's workers while `body` runs, then shuts them down (tests and benchmarks). */
export async function withConveyorWorkers<T>(deps: ConveyorWorkerDeps, body: () => Promise<T>): Promise<T> {
  const workers = await createConveyorWorkers(deps);
  const running = runWorkers(workers);
  try {
    return await body();
  } finally {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  }
}
