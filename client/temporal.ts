/** The CLI's connection to Temporal, with an error that tells the user how to get a server. */
import { Client, Connection } from '@temporalio/client';
import { temporalConnectionFailure, temporalConnectionOptions } from '../config/temporal-connection';
import { loadConfig, type ConveyorConfig } from '../workers/config';
import { CliError } from './cli-error';

/** The one-line error for a Temporal server that cannot be reached (or refuses the TLS settings). */
export async function unreachableServerError(config: ConveyorConfig, error?: unknown): Promise<CliError> {
  return new CliError(await temporalConnectionFailure(config.temporal, error));
}

/** Connects to the configured Temporal server; the caller closes `connection` when done. */
export async function connectClient(config: ConveyorConfig): Promise<{ client: Client; connection: Connection }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: 3000 });
  } catch (error) {
    throw await unreachableServerError(config, error);
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
