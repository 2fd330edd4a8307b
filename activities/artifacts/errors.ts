/**
 * The artifact failures a job can end with (docs/artifacts.md). Each is a ConveyorError with a stable name; the
 * workflow maps the name to the job's reason (`artifact_missing`, `artifact_corrupted`, `artifact_unsafe`,
 * `store_full`). Only an unreachable store is retried by Temporal.
 */
import { ConveyorError } from '../errors';
import {
  ContentDigestMismatchError,
  ContentNotFoundError,
  ContentSizeMismatchError,
  StoreUnavailableError,
} from '../store/store';
import { InvalidArchiveError } from './archive-read';
import { UnsafeEntryError } from './path-safety';
import { UnsafePatternError } from './select';
import { UnpackableEntryError } from './tar-pack';

/** A declared artifact matched nothing, or a stored object a job needs is not there (reason `artifact_missing`). */
export class ArtifactMissingError extends ConveyorError {
  readonly retryable = false;
}

/** A stored object does not hash to its digest, even when fetched again (reason `artifact_corrupted`). */
export class ArtifactDigestMismatchError extends ConveyorError {
  readonly retryable = false;
}

/** An archive holds an entry that must not be extracted, or a workspace holds one that must not be packed. */
export class ArtifactUnsafeError extends ConveyorError {
  readonly retryable = false;
}

/** The store is at its critical level: no new content is accepted until space is reclaimed (reason `store_full`). */
export class StoreFullError extends ConveyorError {
  readonly retryable = false;
}

/** The store cannot be reached right now; Temporal retries the activity with backoff. */
export class ArtifactStoreUnavailableError extends ConveyorError {
  readonly retryable = true;
}

/** The job reason of each artifact failure, by error name (the workflow keeps the same table by name). */
export const artifactFailureReasons = {
  ArtifactMissingError: 'artifact_missing',
  ArtifactDigestMismatchError: 'artifact_corrupted',
  ArtifactUnsafeError: 'artifact_unsafe',
  StoreFullError: 'store_full',
} as const;

/** Names the artifact (and its producer) in a failure about one of its entries or objects. */
export interface ArtifactContext {
  artifact: string;
  /** The job that produced it (downloads) or is producing it (uploads), when known. */
  producer?: string;
  digest?: string;
}

/**
 * Turns what the store, packer or extractor threw into the ConveyorError a job reports; anything else passes
 * through (and Temporal retries it as an unexpected failure).
 */
export function classifyArtifactError(error: unknown, context: ArtifactContext): unknown {
  if (error instanceof ConveyorError) return error;
  const named = context.producer
    ? `artifact '${context.artifact}' of job '${context.producer}'`
    : `artifact '${context.artifact}'`;
  const details = { ...context };
  if (error instanceof StoreUnavailableError) {
    return new ArtifactStoreUnavailableError(error.message, { ...details, code: error.code });
  }
  if (error instanceof UnsafeEntryError || error instanceof UnpackableEntryError) {
    return new ArtifactUnsafeError(`${named} is unsafe: ${error.message}`, { ...details, entry: errorEntry(error) });
  }
  if (error instanceof UnsafePatternError) {
    return new ArtifactUnsafeError(`${named}: path '${error.pattern}' is unsafe: ${error.message}`, {
      ...details,
      pattern: error.pattern,
    });
  }
  if (error instanceof InvalidArchiveError) {
    return new ArtifactUnsafeError(`${named} is unsafe: ${error.message}`, details);
  }
  if (error instanceof ContentNotFoundError) {
    return new ArtifactMissingError(
      `${named} is missing from the store (sha256:${error.digest.slice(0, 16)}…); ` +
        (context.producer ? `re-run job '${context.producer}' to produce it again` : 'produce it again'),
      details,
    );
  }
  if (error instanceof ContentSizeMismatchError) {
    return new ArtifactDigestMismatchError(
      `${named} is corrupted: the stored object sha256:${error.expected.slice(0, 16)}… has ${error.actualSize} bytes, ` +
        `expected ${error.expectedSize}; delete the corrupted artifact and rebuild from source`,
      {
        ...details,
        expected: error.expected,
        actual: error.actual,
        expectedSize: error.expectedSize,
        actualSize: error.actualSize,
      },
    );
  }
  if (error instanceof ContentDigestMismatchError) {
    return new ArtifactDigestMismatchError(
      `${named} is corrupted: integrity check failed for sha256:${error.actual.slice(0, 16)}… ` +
        `(expected sha256:${error.expected.slice(0, 16)}…); delete the corrupted artifact and rebuild from source`,
      { ...details, expected: error.expected, actual: error.actual },
    );
  }
  return error;
}

function errorEntry(error: UnsafeEntryError | UnpackableEntryError): string {
  return error instanceof UnsafeEntryError ? error.entry : error.path;
}
