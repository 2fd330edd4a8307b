/**
 * What may be removed when a step attempt ends (docs/architecture.md, "Crash adoption"):
 *
 * - a container whose outcome is recorded in the log store: removed off the critical path, after the activity has
 *   returned its result (the next step does not wait for it); the job's workspace with it when this was the job's
 *   last step and it succeeded;
 * - a cancelled step's container: killed and removed before the activity ends, so a cancel leaves nothing behind;
 * - anything else — an engine error while the script may still run — is left alone: the activity's next attempt
 *   adopts the container. Whatever a crash leaves, the run's cleanup or the sweeper removes.
 */
import type Docker from 'dockerode';
import { isDockerNotFound } from './docker-errors';
import { deleteWorkspace, removeJobWorkspace } from './docker-resources';
import type { RunStepInput } from './docker-step-types';

/** Removals still in flight, so a worker shutting down (or a test) can wait for them. */
const pending = new Set<Promise<void>>();

/** Removes a finished step's container (and, after the job's last step succeeded, its workspace) in the background. */
export function removeFinishedStep(
  docker: Docker,
  container: Docker.Container,
  input: RunStepInput,
  succeeded: boolean,
): void {
  const removal = (async () => {
    await container.remove({ force: true, v: false }).catch(() => undefined);
    if (succeeded && input.removeWorkspaceOnSuccess) {
      const workspace = { runId: input.runId, job: input.job, jobAttempt: input.jobAttempt };
      // Earlier steps' containers may still be on their way out, holding the volume for a moment.
      for (let tries = 0; tries < 5; tries += 1) {
        const removed = await deleteWorkspace(docker, workspace).then(
          () => true,
          (error: unknown) => isDockerNotFound(error),
        );
        if (removed) break;
        await new Promise((resolve) => setTimeout(resolve, 200 * (tries + 1)));
      }
    }
  })();
  pending.add(removal);
  void removal.finally(() => pending.delete(removal));
}

/** Kills and removes a cancelled step's container; never throws. */
export async function removeCancelledStep(container: Docker.Container): Promise<void> {
  await container.remove({ force: true, v: false }).catch(() => undefined);
}

/** Removes a cancelled step's job workspace, with the next step's container made ahead; never throws. */
export async function removeCancelledWorkspace(docker: Docker, input: RunStepInput): Promise<void> {
  const workspace = { runId: input.runId, job: input.job, jobAttempt: input.jobAttempt };
  await removeJobWorkspace(docker, workspace).catch(() => undefined);
}

/** Waits for every background removal started so far. */
export async function settleStepRemovals(): Promise<void> {
  await Promise.allSettled([...pending]);
}
