/**
 * Errors of the deployment activities (DEP-012), classified like every Conveyor error: whether Temporal may retry
 * them, and structured details for the workflow and the CLI. Health checks and analysis do not throw: a failed
 * check is a result the workflow acts on.
 */
import { ConveyorError } from './errors';

/** The router's port is taken on this host; retrying cannot help. */
export class RouterPortTakenError extends ConveyorError {
  readonly retryable = false;
  constructor(readonly port: number) {
    super(`port ${port} is already taken on this host: choose another router.port (or preview_port) for the service`, {
      port,
    });
  }
}

/** The router could not be reached or did not confirm a change; Temporal retries with backoff. */
export class TrafficRoutingError extends ConveyorError {
  readonly retryable = true;
}

/** The router refused a route table (the live one is unchanged); retrying the same table cannot help. */
export class RouteTableRejectedError extends ConveyorError {
  readonly retryable = false;
}

/** A route names an instance that does not run; the workflow must start it first. */
export class InstanceNotRunningError extends ConveyorError {
  readonly retryable = false;
  constructor(readonly instance: string) {
    super(`instance ${instance} is not running, so it cannot be put in rotation`, { instance });
  }
}
