/** What every route area of the server is given: the clients it works through and the live configuration. */
import type { Client } from '@temporalio/client';
import type { LogStore } from '../activities/log-store';
import type { ConveyorConfig } from '../workers/config';
import type { ConfigSnapshot } from './config-source';
import type { ServerMetrics } from './metrics';
import type { RunReader } from './run-reader';

export interface ServerContext {
  /** The process configuration (task queues, Temporal, data dir). */
  config: ConveyorConfig;
  /** The environment secrets are read from (`CONVEYOR_SLACK_SIGNING_SECRET`, …). */
  env: NodeJS.ProcessEnv;
  /** `conveyor.config.yml` as it is now (users, roles, Slack). */
  settings: () => ConfigSnapshot;
  client: Client;
  logs: LogStore;
  runs: RunReader;
  metrics: ServerMetrics;
  /** Readiness checks by name (`/readyz`): each resolves when its dependency answers, or rejects saying why. */
  readiness: Record<string, () => Promise<void>>;
  /** Where the Temporal UI shows a workflow. */
  temporalUiUrl: (workflowId: string) => string;
}
