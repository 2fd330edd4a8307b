/**
 * The one shared way tests reach Temporal (STYLE.md 19): the embedded stack's dev server (started by `npm test`
 * through `conveyor dev up`) via `createFromExistingServer`, a workflow bundle built once per test process, and
 * workers on a unique task queue per test.
 */
import type { SourceTrees } from '../../activities/source/source-trees';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import Docker from 'dockerode';
import type { LogStore } from '../../activities/log-store';
import type { ArtifactStore } from '../../activities/store/store';
import type { ArtifactSettings } from '../../config/artifacts-config';
import type { RegistriesSettings } from '../../config/registries';
import type { SlackSettings } from '../../config/slack';
import { createStaticSecretStore } from '../../activities/secrets';
import type { ProvidersSettings } from '../../config/providers';
import { loadConfig } from '../../workers/config';
import { clusterLabel } from '../../workers/cluster-label';
import { withConveyorWorkers } from '../../workers/create-workers';
import { createLogStoreFromConfig } from '../../workers/stores';

// Worker state changes and expected activity failures are noise in test output; errors still show.
Runtime.install({ logger: new DefaultLogger('ERROR') });

export const config = loadConfig();
export const docker = new Docker();

let environment: Promise<TestWorkflowEnvironment> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The test environment bound to the running dev server (one per test process). */
export function testEnvironment(): Promise<TestWorkflowEnvironment> {
  environment ??= TestWorkflowEnvironment.createFromExistingServer({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
  });
  return environment;
}

let cluster: Promise<string> | undefined;

/** The dev server's cluster label value, as the stack's worker writes it on Docker resources. */
export function testCluster(): Promise<string> {
  cluster ??= testEnvironment().then((env) =>
    clusterLabel(env.client.connection.workflowService, config.temporal.namespace),
  );
  return cluster;
}

/** The workflows, bundled once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../workflows'), logger: quietLogger });
  return bundle;
}

/** A task queue no other test uses. */
export function uniqueTaskQueue(prefix: string): string {
  return `test-${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The configured log store (S3 with the embedded stack), where the CLI reads it too. */
export const logs: LogStore = createLogStoreFromConfig(config);

/** Runs Conveyor's real workers on `taskQueue` while `body` runs, then shuts them down. */
export async function withWorkers<T>(
  taskQueue: string,
  body: () => Promise<T>,
  options: {
    heartbeatMs?: number;
    secrets?: Record<string, string>;
    /** The `providers:` settings the workers see (commit statuses, credentials). */
    providers?: () => ProvidersSettings | undefined;
    /** The artifact store (default: the configured one, the stack's MinIO). */
    store?: ArtifactStore;
    scratchDir?: string;
    /** The host's shared source trees (default: the data dir's, see workers/stores.ts). */
    sourceTrees?: SourceTrees;
    artifactSettings?: ArtifactSettings;
    /** The `slack:` section gate messages use (default: none, so no test posts to Slack by accident). */
    slack?: () => SlackSettings | undefined;
    /** The `registries:` credentials step pulls use (default: none). */
    registries?: () => RegistriesSettings | undefined;
  } = {},
): Promise<T> {
  const env = await testEnvironment();
  return withConveyorWorkers(
    {
      connection: env.nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue,
      docker,
      logs,
      workflowBundle: await workflowBundle(),
      heartbeatMs: options.heartbeatMs,
      secrets: createStaticSecretStore(options.secrets ?? {}),
      cluster: await testCluster(),
      providers: options.providers,
      store: options.store,
      scratchDir: options.scratchDir,
      sourceTrees: options.sourceTrees,
      artifactSettings: options.artifactSettings,
      slack: options.slack ?? (() => undefined),
      registries: options.registries ?? (() => undefined),
      prometheus: { targets: config.prometheus.targets, url: config.prometheus.url },
      client: env.client,
    },
    body,
  );
}

/** Closes the shared environment (call from a top-level `after`). */
export async function closeTestEnvironment(): Promise<void> {
  if (environment) await (await environment).teardown();
  environment = undefined;
}

/**
 * Containers, volumes and networks carrying a label (`key` or `key=value`), as readable names; with `since`, only
 * those created at or after it (the Docker engine may be shared with other checkouts and older resources).
 */
export async function leftoversWithLabel(label: string, since?: Date): Promise<string[]> {
  const filters = { label: [label] };
  const isRecent = (created: number): boolean => since === undefined || created >= since.getTime() - 1000;
  const containers = await docker.listContainers({ all: true, filters });
  const { Volumes } = await docker.listVolumes({ filters });
  const networks = await docker.listNetworks({ filters });
  return [
    ...containers
      .filter((container) => isRecent(container.Created * 1000))
      .map((container) => `container ${container.Names.join(',')}`),
    ...(Volumes ?? [])
      .filter((volume) => isRecent(Date.parse((volume as { CreatedAt?: string }).CreatedAt ?? '')))
      .map((volume) => `volume ${volume.Name}`),
    ...networks.filter((network) => isRecent(Date.parse(network.Created))).map((network) => `network ${network.Name}`),
  ];
}

/** What is still on the Docker host for a run (should be nothing once it has ended). */
export function leftoversOf(runId: string): Promise<string[]> {
  return leftoversWithLabel(`conveyor.run=${runId}`);
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/** Terminates every workflow still open on `taskQueue` (coordinators whose workers a test is about to stop). */
export async function terminateOpenWorkflows(client: Client, taskQueue: string): Promise<void> {
  const open = client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` });
  for await (const workflow of open) {
    await client.workflow
      .getHandle(workflow.workflowId, workflow.runId)
      .terminate('the test that started it has ended')
      .catch(() => undefined);
  }
}
