/** Wires a {@link ServerContext} from the process configuration and a Temporal client (main and tests). */
import { access, constants, mkdir } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import type { LogStore } from '../activities/log-store';
import { createS3Client } from '../activities/s3';
import { temporalUiUrl, type ConveyorConfig } from '../workers/config';
import { createLogStoreFromConfig } from '../workers/stores';
import { watchConfigFile } from './config-source';
import type { ServerContext } from './context';
import { ServerMetrics } from './metrics';
import { RunReader, type RunReaderOptions } from './run-reader';

export interface ContextOptions {
  config: ConveyorConfig;
  client: Client;
  env?: NodeJS.ProcessEnv;
  logs?: LogStore;
  runReader?: RunReaderOptions;
  /** How often the configuration file is checked for changes (default 1 s). */
  configCheckMs?: number;
}

/** The context of a server; call `context.runs.close()` and `context.metrics.stop()` when done. */
export function createServerContext(options: ContextOptions): ServerContext {
  const { config, client } = options;
  const env = options.env ?? process.env;
  const s3 = createS3Client(config.s3);
  return {
    config,
    env,
    settings: watchConfigFile(config, { env, checkIntervalMs: options.configCheckMs }),
    client,
    logs: options.logs ?? createLogStoreFromConfig(config),
    runs: new RunReader(client, options.runReader),
    metrics: new ServerMetrics(client, config),
    readiness: {
      temporal: async () => {
        await client.connection.workflowService.getSystemInfo({});
      },
      store: async () => {
        if (config.store.kind === 'fs') {
          // The store creates its directory on first write; ready means it can.
          await mkdir(config.store.dir, { recursive: true })
            .then(() => access(config.store.dir, constants.W_OK))
            .catch(() => {
              throw new Error(`the store directory ${config.store.dir} is not writable`);
            });
          return;
        }
        if (!(await s3.bucketExists(config.s3.bucket))) throw new Error(`bucket '${config.s3.bucket}' does not exist`);
      },
    },
    temporalUiUrl: (workflowId) => temporalUiUrl(config, workflowId),
  };
}
