/** Recognising Docker engine errors: "not found" answers versus an engine that is down or failing. */
import { DockerUnavailableError } from './errors';

interface DockerModemError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** True when the engine answered 404 (no such image, container or volume). */
export function isDockerNotFound(error: unknown): boolean {
  return (error as DockerModemError | undefined)?.statusCode === 404;
}

/**
 * Wraps an engine failure as a retryable infrastructure error that says what Conveyor was doing, so Temporal
 * retries it with backoff and the run reports it as infrastructure, not as the script's fault.
 */
export function wrapDockerError(error: unknown, doing: string): Error {
  if (error instanceof DockerUnavailableError) return error;
  const e = error as DockerModemError | undefined;
  const cause = e?.code ?? (e?.statusCode ? `HTTP ${e.statusCode}` : 'error');
  const message = `Docker engine failed while ${doing}: ${cause}: ${e?.message ?? String(error)}`;
  return new DockerUnavailableError(message, { doing, statusCode: e?.statusCode, code: e?.code });
}
