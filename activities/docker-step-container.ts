/**
 * A step's container: its options (the security defaults of docs/runs.md), and creating it — or adopting the one
 * an earlier attempt of the same activity left running (docs/architecture.md, "Crash adoption").
 */
import type Docker from 'dockerode';
import type { RegistryAuth } from '../config/registries';
import { isDockerNotFound, wrapDockerError } from './docker-errors';
import { notPulledError, pullImage } from './docker-image-pull';
import { ensureWorkspace } from './docker-resources';
import type { RunStepInput } from './docker-step-types';
import { DockerUnavailableError, ImageNotFoundError } from './errors';
import { labels, ownerLabels, stepContainerName, workspaceVolumeName } from './names';
import { secretReferences } from '../pipeline/run-time-variables';
import type { ResolvedStep } from './step-template';

/** The user every step runs as (docs/runs.md: never root). */
export const stepUser = '1000:1000';

/** The size of each of the (at most two) files of a step container's Docker log. */
export const stepLogFileBytes = '64m';

/** The state Docker reports for a container. */
export type ContainerState = Docker.ContainerInspectInfo['State'];

/** The container a step attempt runs in, and whether an earlier activity attempt had already created it. */
export interface StepContainer {
  container: Docker.Container;
  /** The state found when adopting; undefined for a container this attempt created. */
  adoptedState?: ContainerState;
}

/**
 * Starts the step's container, or adopts the one an earlier attempt of this activity left behind (`retried`: this
 * is not the activity's first attempt). A created-but-never-started container is started; one that already ran is
 * not started again: its output is still in its log and its exit code in its state.
 */
export async function startOrAdoptContainer(
  docker: Docker,
  name: string,
  input: RunStepInput,
  step: ResolvedStep,
  options: { retried: boolean; cluster?: string; registryAuth?: (image: string) => RegistryAuth | undefined },
): Promise<StepContainer> {
  let container = docker.getContainer(name);
  const existing = options.retried ? await inspectState(container) : undefined;
  if (existing) {
    if (!existing.Running && neverStarted(existing)) await container.start().catch(ignoreAlreadyStarted);
    return { container, adoptedState: existing };
  }
  // `always` pulls before every attempt; otherwise a missing image is found (and pulled) when creating the container.
  const auth = () => options.registryAuth?.(step.image);
  if (input.pullPolicy === 'always') await pullImage(docker, step.image, auth());
  // The step before made this container while it ran (`prepareNextStep`): starting it is the only call needed. Only
  // when that did not happen (it is best effort) does the start find nothing, and the container is created below.
  if (!options.retried && !input.prepareWorkspace && input.attempt === 1 && isPreparedAhead(input)) {
    const started = await container.start().then(
      () => true,
      (error: unknown) => {
        if (isDockerNotFound(error)) return false;
        ignoreAlreadyStarted(error);
        return true;
      },
    );
    if (started) return { container };
  }
  if (input.prepareWorkspace) {
    const workspace = {
      runId: input.runId,
      job: input.job,
      jobAttempt: input.jobAttempt,
      cluster: options.cluster,
      diskBytes: input.resources.diskBytes,
    };
    await ensureWorkspace(docker, workspace, step.image).catch((error: unknown) => {
      throw wrapDockerError(error, `preparing the workspace of job '${input.job}'`);
    });
  }
  container = await createStepContainer(docker, name, input, step, options.cluster).catch(async (error: unknown) => {
    if (!(error instanceof ImageNotFoundError)) throw error;
    if (input.pullPolicy === 'never') throw notPulledError(step.image);
    await pullImage(docker, step.image, auth());
    return createStepContainer(docker, name, input, step, options.cluster);
  });
  await container.start().catch(ignoreAlreadyStarted);
  return { container };
}

/**
 * Creates (never starts) the container of the job's next step while the current one runs, so the next activity
 * finds it by name and only starts it. Best effort and silent: on any problem (a missing image, a template that
 * does not resolve, an engine error) the next activity creates its container itself and reports what is wrong. A
 * step whose environment uses secrets is left alone, so secret values sit in a container only while it runs.
 */
export async function prepareNextStep(
  docker: Docker,
  next: RunStepInput,
  resolve: (template: RunStepInput) => ResolvedStep,
  cluster: string | undefined,
): Promise<void> {
  if (!isPreparedAhead(next)) return;
  try {
    const name = stepContainerName(next.runId, next.job, next.step, next.attempt, next.jobAttempt);
    const volume = workspaceVolumeName(next.runId, next.job, next.jobAttempt);
    await docker.createContainer(stepContainerOptions(name, next, resolve(next), volume, cluster));
  } catch {
    // The next activity creates the container itself (see above).
  }
}

/**
 * Whether a step's container is made ahead, while the step before runs. Not when its environment uses secrets (secret
 * values sit in a container only while it runs), nor with `pull_policy: always` (the image is pulled when the step
 * starts, and its container created from it then).
 */
function isPreparedAhead(step: RunStepInput): boolean {
  if (Object.values(step.environment).some((value) => secretReferences(value).length > 0)) return false;
  return step.pullPolicy !== 'always';
}

/** Whether Docker has never started the container (its StartedAt is the zero time). */
export function neverStarted(state: ContainerState): boolean {
  return state.StartedAt.startsWith('0001');
}

async function createStepContainer(
  docker: Docker,
  name: string,
  input: RunStepInput,
  step: ResolvedStep,
  cluster: string | undefined,
): Promise<Docker.Container> {
  try {
    const volume = workspaceVolumeName(input.runId, input.job, input.jobAttempt);
    return await docker.createContainer(stepContainerOptions(name, input, step, volume, cluster));
  } catch (error) {
    if (isDockerNotFound(error) && /no such image/i.test(String((error as Error).message))) {
      throw new ImageNotFoundError(step.image);
    }
    if ((error as { statusCode?: number }).statusCode === 409) return docker.getContainer(name);
    throw wrapDockerError(error, `creating the container for step '${input.step}'`);
  }
}

/** The container of a step: its command, environment, labels and the security defaults of docs/runs.md. */
export function stepContainerOptions(
  name: string,
  input: RunStepInput,
  step: Pick<ResolvedStep, 'image' | 'script' | 'environment' | 'workingDirectory'>,
  workspaceVolume: string,
  cluster?: string,
): Docker.ContainerCreateOptions {
  return {
    name,
    Image: step.image,
    Cmd: ['/bin/sh', '-ec', step.script.join('\n')],
    Entrypoint: [],
    // Conveyor's system variables (`CONVEYOR_*`, `CI`) come last: a step's environment cannot override them.
    Env: Object.entries({ ...step.environment, ...input.system }).map(([key, value]) => `${key}=${value}`),
    WorkingDir: step.workingDirectory,
    User: stepUser,
    Labels: {
      ...ownerLabels(input.runId, cluster),
      [labels.job]: input.job,
      [labels.step]: input.step,
      [labels.attempt]: String(input.attempt),
    },
    HostConfig: {
      // docker-init as PID 1 forwards SIGTERM to the script, so a timeout can end it gracefully.
      Init: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      PidsLimit: 512,
      Memory: input.resources.memoryBytes,
      MemorySwap: input.resources.memoryBytes,
      NanoCpus: Math.round(input.resources.cpus * 1e9),
      NetworkMode: input.networkMode,
      Mounts: [{ Type: 'volume', Source: workspaceVolume, Target: '/workspace' }],
      // The log driver's file is capped (docs/runs.md, "Limits"): a step printing without end cannot fill the host's
      // disk. Lines are followed into the log store as they come, so the cap bounds Docker's copy only.
      LogConfig: { Type: 'json-file', Config: { 'max-size': stepLogFileBytes, 'max-file': '2' } },
    },
  };
}

/** The container's state, or undefined when it does not exist. */
export async function inspectState(container: Docker.Container): Promise<ContainerState | undefined> {
  try {
    return (await container.inspect()).State;
  } catch (error) {
    if (isDockerNotFound(error)) return undefined;
    throw wrapDockerError(error, `inspecting container ${container.id}`);
  }
}

function ignoreAlreadyStarted(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode === 304) return;
  throw error instanceof DockerUnavailableError ? error : wrapDockerError(error, 'starting the container');
}
