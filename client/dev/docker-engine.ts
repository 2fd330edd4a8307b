/**
 * `conveyor dev up` checks the Docker engine before it starts anything: every step runs in a container, so a
 * worker without an engine only fails later with a stack trace in its log (docs/operations.md).
 */
import Docker from 'dockerode';

/** Where dockerode connects: `DOCKER_HOST` when set, the local socket otherwise. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** Resolves when the engine answers a ping; otherwise throws one line saying how to start it. */
export async function ensureDockerEngine(docker = new Docker(), timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([docker.ping(), timeout]);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(
      `the Docker engine does not answer at ${dockerEndpoint()} (${reason}); start it with 'npm run setup' ` +
        `(it starts dockerd when it is not running), or point DOCKER_HOST at a running engine`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}
