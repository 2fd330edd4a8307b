/**
 * A Temporal client for commands that follow a run (`conveyor run`, `logs -f`): when the server goes away — a
 * restart, an outage — a call waits for it to answer again over a fresh connection and is retried, and the user
 * is told once per outage. The run itself never depended on the CLI, so it goes on meanwhile (docs/runs.md).
 */
import { Client, Connection, isGrpcServiceError, ServiceError } from '@temporalio/client';
import type { ConveyorConfig } from '../workers/config';
import { CliError } from './cli-error';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { unreachableServerError } from './temporal';

/** gRPC's UNAVAILABLE: the server is down, restarting, or the connection dropped. */
const grpcUnavailable = 14;

/** Whether an error means the server could not be reached (as opposed to the server answering with an error). */
export function isServerUnreachable(error: unknown): boolean {
  const cause = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(cause) && cause.code === grpcUnavailable;
}

/** How it goes while following through an outage. */
export interface ReconnectOptions {
  /** Receives one line when the server is lost and one when it answers again. */
  notice: (text: string) => void;
  /** Give up after the server has not answered for this long (default 10 minutes). */
  giveUpAfterMs?: number;
  /** Pause between reconnection attempts (default 1 s). */
  retryEveryMs?: number;
}

/** A client whose calls survive a restart of the Temporal server. */
export class ReconnectingClient {
  private generation = 0;
  private reconnecting?: Promise<void>;
  private lost = false;

  private constructor(
    private readonly config: ConveyorConfig,
    private current: { client: Client; connection: Connection },
    private readonly options: ReconnectOptions,
  ) {}

  /** Connects; a server that does not answer now is an error at once (it is not an outage to wait out). */
  static async connect(config: ConveyorConfig, options: ReconnectOptions): Promise<ReconnectingClient> {
    try {
      return new ReconnectingClient(config, await open(config), options);
    } catch (error) {
      throw await unreachableServerError(config, error);
    }
  }

  /** The client of the current connection, for calls that must not wait for an outage to end. */
  get client(): Client {
    return this.current.client;
  }

  /** Runs `operation`; if the server cannot be reached, waits until it can and runs it again. */
  async call<T>(operation: (client: Client) => Promise<T>): Promise<T> {
    for (;;) {
      const generation = this.generation;
      try {
        const result = await operation(this.current.client);
        if (this.lost) {
          this.lost = false;
          this.options.notice(`reconnected to the Temporal server at ${this.config.temporal.address}`);
        }
        return result;
      } catch (error) {
        if (!isServerUnreachable(error)) throw error;
        await this.reconnect(generation);
      }
    }
  }

  async close(): Promise<void> {
    await this.current.connection.close().catch(() => undefined);
  }

  /** One reconnection at a time; a call that failed on an older connection just retries on the new one. */
  private reconnect(failedGeneration: number): Promise<void> {
    if (failedGeneration !== this.generation) return Promise.resolve();
    this.reconnecting ??= this.openAgain().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  private async openAgain(): Promise<void> {
    const { address } = this.config.temporal;
    if (!this.lost) {
      this.lost = true;
      this.options.notice(`lost the Temporal server at ${address}; reconnecting (the run goes on without us)…`);
    }
    await this.current.connection.close().catch(() => undefined);
    const giveUpAt = Date.now() + (this.options.giveUpAfterMs ?? 600_000);
    for (;;) {
      try {
        this.current = await open(this.config);
        this.generation += 1;
        return;
      } catch {
        if (Date.now() > giveUpAt) {
          const minutes = Math.round((this.options.giveUpAfterMs ?? 600_000) / 60_000);
          throw new CliError(`the Temporal server at ${address} has not answered for ${minutes} minutes; gave up`);
        }
        await new Promise((resolve) => setTimeout(resolve, this.options.retryEveryMs ?? 1000));
      }
    }
  }
}

/**
 * A connection without the SDK's own retries: those retry an unreachable server for about 20 s before failing,
 * while a follower should notice at once, say so, and wait as long as it takes.
 */
async function open(config: ConveyorConfig): Promise<{ client: Client; connection: Connection }> {
  const connection = Connection.lazy({
    ...temporalConnectionOptions(config.temporal),
    connectTimeout: 3000,
    interceptors: [],
  });
  try {
    await connection.ensureConnected();
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
  return { client: new Client({ connection, namespace: config.temporal.namespace }), connection };
}
