/**
 * What a step attempt removes when it ends: its container (its output is already in the log store), and the job's
 * workspace when it was the job's last step and succeeded.
 */
import type Docker from 'dockerode';
import { deleteWorkspace } from './docker-resources';
import type { RunStepInput } from './docker-step-types';

/** Removes the step's container and, after the job's last step succeeded, its workspace; never throws. */
export async function cleanUpStep(
  docker: Docker,
  container: Docker.Container,
  input: RunStepInput,
  succeeded: boolean,
): Promise<void> {
  await container.remove({ force: true, v: false }).catch(() => undefined);
  if (succeeded && input.removeWorkspaceOnSuccess) {
    await deleteWorkspace(docker, { runId: input.runId, job: input.job, jobAttempt: input.jobAttempt }).catch(
      () => undefined,
    );
  }
}
