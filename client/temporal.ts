/** The CLI's connection to Temporal, with an error that tells the user how to get a server. */
import { Client, Connection } from '@temporalio/client';
import type { ConveyorConfig } from '../workers/config';
import { CliError } from './cli-error';

/** Connects to the configured Temporal server; the caller closes `connection` when done. */
export async function connectClient(config: ConveyorConfig): Promise<{ client: Client; connection: Connection }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 3000 });
  } catch {
    throw new CliError(
      `cannot reach the Temporal server at ${config.temporal.address}; start the embedded stack with ` +
        `'conveyor dev up' (or set TEMPORAL_ADDRESS)`,
    );
  }
  return { client: new Client({ connection, namespace: config.temporal.namespace }), connection };
}
