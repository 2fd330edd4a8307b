/**
 * A worker in its own process for crash tests: `node --import tsx worker-entry.ts TASK_QUEUE`. It prints
 * "worker ready" once polling, so the test knows when to go on, and can be killed with SIGKILL mid-step or stopped
 * with SIGTERM the way workers/main.ts is (workers/shutdown.ts).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import Docker from 'dockerode';
import { createStaticSecretStore } from '../../activities/secrets';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { clusterLabel } from '../../workers/cluster-label';
import { loadConfig } from '../../workers/config';
import { createConveyorWorkers } from '../../workers/create-workers';
import { runWorkersUntilStopped } from '../../workers/shutdown';
import { createLogStoreFromConfig } from '../../workers/stores';

async function main(): Promise<void> {
  const taskQueue = process.argv[2];
  if (!taskQueue) throw new Error('usage: worker-entry.ts TASK_QUEUE');
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const config = loadConfig();
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const workers = await createConveyorWorkers({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    docker: new Docker(),
    cluster: await clusterLabel(connection.workflowService, config.temporal.namespace),
    logs: createLogStoreFromConfig(config),
    secrets: createStaticSecretStore(JSON.parse(process.env.TEST_SECRETS ?? '{}') as Record<string, string>),
    heartbeatMs: 500,
    prometheus: { targets: config.prometheus.targets, url: config.prometheus.url },
  });
  console.log('worker ready');
  await runWorkersUntilStopped(workers, config.worker.shutdownGraceSeconds);
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
