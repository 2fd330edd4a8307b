/**
 * The worker process: serves Conveyor's workflows and container activities against the configured Temporal
 * server and Docker engine. Started by `conveyor dev up`; on a cluster, run one per Docker host.
 */
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import Docker from 'dockerode';
import { createFsLogStore } from '../activities/log-store';
import { createWorkerSecretStore } from '../activities/secrets';
import { loadConfig } from './config';
import { createConveyorWorkers, runWorkers } from './create-workers';
import { clusterLabel } from './cluster-label';
import { sweepClosedRuns } from './sweeper';
import { Client, Connection } from '@temporalio/client';

async function main(): Promise<void> {
  const config = loadConfig();
  console.log(`worker starting (pid ${process.pid})`);
  const docker = new Docker();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const cluster = await clusterLabel(clientConnection.workflowService, config.temporal.namespace);
  const swept = await sweepClosedRuns({ docker, client, cluster });
  if (swept.runs > 0) console.log(`sweeper: removed leftovers of ${swept.runs} closed run(s)`);
  const workers = await createConveyorWorkers({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueues.workflows,
    docker,
    cluster,
    logs: createFsLogStore(path.join(config.dataDir, 'runs')),
    secrets: createWorkerSecretStore(process.env, path.join(config.dataDir, 'secrets.json')),
    providers: () => config.file.providers,
    apiAddress: `http://${config.api.host}:${config.api.port}`,
    gitCacheDir: path.join(config.dataDir, 'git', 'worker'),
    defaultImage: config.defaultImage,
  });
  console.log(`worker ready on task queues ${config.taskQueues.workflows} and ${config.taskQueues.workflows}-docker`);
  const stop = () => workers.forEach((worker) => worker.shutdown());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await runWorkers(workers);
  await clientConnection.close();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
