/**
 * Runs the control plane's server until SIGINT/SIGTERM: connects to Temporal, builds the server and listens on
 * `config.api` (127.0.0.1:8080 by default). `conveyor serve` and the embedded stack's `api` service both use it.
 */
import { Client, Connection } from '@temporalio/client';
import { temporalConnectionFailure, temporalConnectionOptions } from '../config/temporal-connection';
import type { ConveyorConfig } from '../workers/config';
import { buildServer } from './app';
import { createServerContext } from './create-context';

export async function serve(config: ConveyorConfig): Promise<void> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: 10_000 });
  } catch (error) {
    throw new Error(await temporalConnectionFailure(config.temporal, error), { cause: error });
  }
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const context = createServerContext({ config, client });
  const app = await buildServer(context, {
    logger: {
      level: process.env.CONVEYOR_LOG_LEVEL ?? 'info',
      // The default serializers log no headers; these paths stay hidden even if that changes.
      redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]'],
    },
  });
  try {
    await app.listen({ host: config.api.host, port: config.api.port });
  } catch (error) {
    await connection.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(`port ${config.api.port} is taken; stop whatever holds it, or set CONVEYOR_API_PORT`, {
        cause: error,
      });
    }
    throw error;
  }
  context.metrics.start();
  console.log(`server ready on http://${config.api.host}:${config.api.port}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  context.metrics.stop();
  context.runs.close();
  await app.close();
  await connection.close();
}
