/**
 * Making sure a step's image is on the Docker host before its container is created (docs/runs.md, "Images and
 * registries"): the step's pull policy decides whether to pull, transient registry errors are retried with
 * exponential backoff (3 attempts), and only the registry saying the image or tag does not exist is
 * `image_not_found`. Credentials come from the worker (`registries:` in conveyor.config.yml) and go to the engine
 * only, in its `X-Registry-Auth` header: never into a result, an error message or a log.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { RegistryAuth } from '../config/registries';
import { registryOf } from '../config/registries';
import { ImageNotFoundError, ImagePullError, RegistryAuthError } from './errors';

/** When a step's image is pulled: only when missing (default), on every step attempt, or never. */
export type PullPolicy = 'if_not_present' | 'always' | 'never';

/** How pulls are retried: 3 attempts (EXE-018), waiting `backoffMs`, then twice that, between them. */
export interface PullRetry {
  attempts: number;
  backoffMs: number;
}

const defaultRetry: PullRetry = { attempts: 3, backoffMs: 1000 };

/** What a failed pull means: the registry has no such image or tag, refused the credentials, or failed for now. */
export type PullFailure = 'not_found' | 'auth' | 'transient';

/** Classifies an engine or registry error of a pull by what the registry said (Docker passes its words on). */
export function classifyPullError(message: string, statusCode?: number): PullFailure {
  // Docker Hub cannot tell a missing repository from a private one; its words say both, and so does the message.
  if (/repository does not exist/i.test(message)) return 'not_found';
  if (/unauthorized|authentication required|no basic auth credentials|access denied|denied:|forbidden/i.test(message))
    return 'auth';
  if (
    /manifest unknown|name unknown|not found: manifest|manifest for .* not found|repository .* not found/i.test(message)
  )
    return 'not_found';
  if (statusCode === 404 && !/connect|dial|timeout|EOF/i.test(message)) return 'not_found';
  return 'transient';
}

/** The error of a step whose image is missing while its policy forbids pulling. */
export function notPulledError(image: string): ImageNotFoundError {
  return new ImageNotFoundError(
    image,
    "is not on this Docker host and the step's pull_policy is never (build or pull it on the host, or use pull_policy: if_not_present)",
  );
}

/**
 * Pulls an image, retrying transient failures with exponential backoff; afterwards the image is on the host, or
 * this throws `image_not_found` (the registry said so), a credentials error, or a pull error after every attempt.
 */
export async function pullImage(
  docker: Docker,
  image: string,
  auth: RegistryAuth | undefined,
  retry: PullRetry = defaultRetry,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const failure = await pullOnce(docker, image, auth);
    if (!failure) return;
    const kind = classifyPullError(failure.message, failure.statusCode);
    const registry = registryOf(image);
    if (kind === 'not_found')
      throw new ImageNotFoundError(image, `was not found: registry ${registry} says ${failure.message}`);
    if (kind === 'auth') {
      throw new RegistryAuthError(
        `pulling image '${image}': registry ${registry} refused access (${failure.message}); ` +
          (auth
            ? `check the credentials for ${registry} under registries: in conveyor.config.yml`
            : `add credentials for ${registry} under registries: in conveyor.config.yml`),
        { image, registry },
      );
    }
    if (attempt >= retry.attempts) {
      throw new ImagePullError(
        `pulling image '${image}' failed ${attempt} times: ${failure.message} (is registry ${registry} reachable from the Docker host?)`,
        { image, registry, attempts: attempt },
      );
    }
    await delay(retry.backoffMs * 2 ** (attempt - 1));
  }
}

/** One pull; resolves to the failure (engine error or an error in the progress stream), or undefined on success. */
async function pullOnce(
  docker: Docker,
  image: string,
  auth: RegistryAuth | undefined,
): Promise<{ message: string; statusCode?: number } | undefined> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(image, auth ? { authconfig: auth } : {})) as NodeJS.ReadableStream;
  } catch (error) {
    const e = error as { statusCode?: number; message?: string };
    // The modem prefixes the engine's words with `(HTTP code 404) unexpected - `; the words are what matter.
    const message = (e.message ?? String(error)).replace(/^\(HTTP code \d+\)[^-]*- /, '').trim();
    return { message, statusCode: e.statusCode };
  }
  return new Promise((resolve) => {
    let buffered = '';
    let failure: { message: string } | undefined;
    const take = (line: string) => {
      if (!line.trim()) return;
      try {
        const event = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
        if (event.error || event.errorDetail) failure = { message: event.errorDetail?.message ?? event.error ?? '' };
      } catch {
        // Progress lines only; a line that is not JSON says nothing about the outcome.
      }
    };
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        take(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
    });
    stream.on('end', () => {
      take(buffered);
      resolve(failure);
    });
    stream.on('error', (error: Error) => resolve({ message: error.message }));
  });
}
