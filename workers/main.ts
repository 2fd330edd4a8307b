/**
 * The worker process: serves Conveyor's workflows and container activities against the configured Temporal
 * server and Docker engine. Started by `conveyor dev up`; on a cluster, run one per Docker host.
 */
import path from 'node:path';
import { NativeConnection, Runtime } from '@temporalio/worker';
import Docker from 'dockerode';
import { createWorkerSecretStore } from '../activities/secrets';
import { loadConfig } from './config';
import { createConveyorWorkers } from './create-workers';
import { runWorkersUntilStopped } from './shutdown';
import { clusterLabel } from './cluster-label';
import { announceWorkerMetrics, freeLocalPort } from './metrics-target';
import { sweepClosedRuns } from './sweeper';
import { poolTaskQueue } from '../pipeline/runner-pool';
import { createLogStoreFromConfig, createStoreFromConfig, scratchDir, sourceTreesDir } from './stores';
import { SourceTrees } from '../activities/source/source-trees';
import { sweepScratch } from '../activities/store/scratch';
import { artifactSettings } from '../config/artifacts-config';
import { ensureRetentionSchedule, retentionScheduleId } from './retention-schedule';
import { Client, Connection } from '@temporalio/client';
import {
  temporalConnectionFailure,
  temporalConnectionOptions,
  type TemporalSettings,
} from '../config/temporal-connection';

async function main(): Promise<void> {
  const config = loadConfig();
  console.log(`worker starting (pid ${process.pid})`);
  // Before any connection: the runtime's metrics exporter is chosen when it is installed.
  const metricsPort = await freeLocalPort();
  // No shutdown signals for the SDK: workers/shutdown.ts drains on SIGTERM/SIGINT and exits on a second one.
  Runtime.install({
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } },
    shutdownSignals: [],
  });
  const unannounce = announceWorkerMetrics(config.prometheus.targets, metricsPort);
  const docker = new Docker();
  const { connection, clientConnection } = await connectToTemporal(config.temporal);
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const cluster = await clusterLabel(clientConnection.workflowService, config.temporal.namespace);
  const swept = await sweepClosedRuns({ docker, client, cluster });
  if (swept.runs > 0) console.log(`sweeper: removed leftovers of ${swept.runs} closed run(s)`);
  // Scratch files of transfers whose worker died, and unfinished uploads older than an hour (docs/artifacts.md).
  const store = createStoreFromConfig(config);
  const hourAgo = new Date(Date.now() - 3600_000);
  const temporaries = (await sweepScratch(scratchDir(config), hourAgo)) + (await store.sweepTemporaries(hourAgo));
  if (temporaries > 0) console.log(`sweeper: removed ${temporaries} orphaned artifact temporaries`);
  // Source trees and overlay layers no workspace uses any more (docs/triggers.md, "Overlay workspaces").
  const trees = await new SourceTrees(sourceTreesDir(config)).sweep(docker).catch(() => ({ trees: 0, jobs: 0 }));
  if (trees.trees + trees.jobs > 0)
    console.log(`sweeper: removed ${trees.trees} source tree(s), ${trees.jobs} layer(s)`);
  const { retention } = artifactSettings(config.file);
  const schedule = await ensureRetentionSchedule(client, {
    taskQueue: config.taskQueues.workflows,
    intervalSeconds: retention.intervalSeconds,
    maxDeletions: retention.maxDeletions,
  }).catch((error: unknown) => {
    // Runs do not depend on it; the next worker start tries again.
    console.error(`retention schedule ${retentionScheduleId} could not be ensured: ${(error as Error).message}`);
    return 'unchanged' as const;
  });
  if (schedule !== 'unchanged') console.log(`retention schedule ${retentionScheduleId} ${schedule}`);
  const workers = await createConveyorWorkers({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueues.workflows,
    docker,
    cluster,
    logs: createLogStoreFromConfig(config),
    store,
    secrets: createWorkerSecretStore(process.env, path.join(config.dataDir, 'secrets.json')),
    providers: () => config.file.providers,
    apiAddress: `http://${config.api.host}:${config.api.port}`,
    gitCacheDir: path.join(config.dataDir, 'git', 'worker'),
    defaultImage: config.defaultImage,
    prometheus: { targets: config.prometheus.targets, url: config.prometheus.url },
    client,
  });
  const poolQueues = config.worker.pools.map(
    (pool) => `${poolTaskQueue(config.taskQueues.workflows, pool)} (pool ${pool})`,
  );
  console.log(
    `worker ready on task queues ${config.taskQueues.workflows} and ${poolQueues.join(', ')}; ` +
      `at most ${config.worker.maxConcurrentSteps} steps at once per pool`,
  );
  await runWorkersUntilStopped(workers, config.worker.shutdownGraceSeconds);
  unannounce();
  await clientConnection.close();
  await connection.close();
}

/** Both connections (the worker's and a client's), or one line saying why not. */
async function connectToTemporal(settings: TemporalSettings) {
  try {
    const options = temporalConnectionOptions(settings);
    const connection = await NativeConnection.connect(options);
    const clientConnection = await Connection.connect(options).catch(async (error: unknown) => {
      await connection.close();
      throw error;
    });
    return { connection, clientConnection };
  } catch (error) {
    throw new ConnectionFailure(await temporalConnectionFailure(settings, error));
  }
}

class ConnectionFailure extends Error {}

main().catch((error: unknown) => {
  console.error(error instanceof ConnectionFailure ? `worker: ${error.message}` : error);
  process.exit(1);
});
