/** The CLI's connection to Temporal, with an error that tells the user how to get a server. */
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type ConveyorConfig } from '../workers/config';
import { CliError } from './cli-error';

/** The one-line error for a Temporal server that does not answer. */
export function unreachableServerError(config: ConveyorConfig): CliError {
  return new CliError(
    `cannot reach the Temporal server at ${config.temporal.address}; start the embedded stack with ` +
      `'conveyor dev up' (or set TEMPORAL_ADDRESS)`,
  );
}

/** Connects to the configured Temporal server; the caller closes `connection` when done. */
export async function connectClient(config: ConveyorConfig): Promise<{ client: Client; connection: Connection }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 3000 });
  } catch {
    throw unreachableServerError(config);
  }
  return { client: new Client({ connection, namespace: config.temporal.namespace }), connection };
}

/** Runs `body` with a client for the configuration in the environment, closing the connection afterwards. */
export async function withClient<T>(body: (client: Client, config: ConveyorConfig) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const { client, connection } = await connectClient(config);
  try {
    return await body(client, config);
  } finally {
    await connection.close();
  }
}
