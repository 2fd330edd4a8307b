/**
 * Conveyor's error classes; each says whether Temporal may retry it (`retryable`), and nothing else decides.
 *
 * Activities throw these; `toApplicationFailure` converts them at the activity boundary into an
 * `ApplicationFailure` whose `type` is the class name and whose `details` carry structured facts, so workflows and
 * the CLI can explain a failure without parsing messages.
 */
import { ApplicationFailure } from '@temporalio/common';

/** Base class: every Conveyor error has a stable name and optional structured details. */
export abstract class ConveyorError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The step's image is not present on the Docker host; retrying cannot help. */
export class ImageNotFoundError extends ConveyorError {
  readonly retryable = false;
  constructor(
    readonly image: string,
    why = 'is not available on this Docker host (build it locally or docker pull it)',
  ) {
    super(`image '${image}' ${why}`, { image });
  }
}

/** The Docker engine could not be reached or failed transiently; Temporal retries with backoff. */
export class DockerUnavailableError extends ConveyorError {
  readonly retryable = true;
}

/** A pipeline file or flag is invalid; the message says where and how to fix it. */
export class PipelineConfigError extends ConveyorError {
  readonly retryable = false;
}

/** Converts any thrown value into the failure Temporal records, keeping Conveyor's classification. */
export function toApplicationFailure(error: unknown): unknown {
  if (error instanceof ConveyorError) {
    return ApplicationFailure.create({
      type: error.name,
      message: error.message,
      nonRetryable: !error.retryable,
      details: [error.details],
      cause: error,
    });
  }
  return error;
}

/** The registry refused the worker's credentials (or asked for some it does not have); retrying cannot help. */
export class RegistryAuthError extends ConveyorError {
  readonly retryable = false;
}

/** Pulling an image kept failing on transient errors (registry down, network) after every attempt. */
export class ImagePullError extends ConveyorError {
  readonly retryable = false;
}

/**
 * The step's worker shut down while the step ran on past the shutdown grace (docs/runs.md, "Stopping a worker"): its
 * container is left running and the activity's next attempt, on another worker or the restarted one, adopts it.
 */
export class StepHandedOverError extends ConveyorError {
  readonly retryable = true;
}

/**
 * A retried first step of a job reached a worker of another Docker engine than the one its earlier attempt claimed
 * (details: `hostQueue`, that engine's queue): the workflow sends the step back there, where its container and
 * workspace are (docs/operations.md, "A job stays on its Docker engine"). Never run here: the script may be running.
 */
export class StepOnOtherEngineError extends ConveyorError {
  readonly retryable = false;
  constructor(readonly hostQueue: string) {
    super(`the step's earlier attempt ran on the Docker engine of task queue '${hostQueue}'`, { hostQueue });
  }
}

/**
 * The LLM endpoint of an investigation's narrative could not answer now (unreachable, timed out, 5xx, 429);
 * Temporal retries a few times, then the report goes out without the narrative (docs/investigations.md).
 */
export class NarrativeUnavailableError extends ConveyorError {
  readonly retryable = true;
}

/** The LLM endpoint refused the request or answered something unusable; retrying cannot help. */
export class NarrativeRefusedError extends ConveyorError {
  readonly retryable = false;
}
