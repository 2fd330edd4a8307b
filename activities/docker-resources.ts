/**
 * Per-run resources on the Docker host besides step containers: job workspace volumes, the run's isolated
 * network, and their removal. Everything is labelled `conveyor.run=<run>` so cleanup and the sweeper find it by
 * label, whichever worker created it.
 */
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import { isDockerNotFound, wrapDockerError } from './docker-errors';
import { toApplicationFailure } from './errors';
import { labels, ownerLabels, slug, workspaceVolumeName } from './names';
import { createSizedVolume, releaseSizedVolume, sizedVolumeOf } from './workspace-disk';
import { overlayLayerOf, releaseOverlayLayer } from './workspace-overlay';

/** The image used for Conveyor's own housekeeping containers (workspace ownership). */
export const housekeepingImage = 'conveyor/busybox:latest';

/** Input of `prepareWorkspace`. */
export interface WorkspaceInput {
  runId: string;
  job: string;
  /** Whole-job attempt (1-based); each attempt starts from an empty workspace. Default 1. */
  jobAttempt?: number;
  /** The owning cluster's label value (see `labels.cluster`). */
  cluster?: string;
  /** `resources.disk`: the workspace's size limit in bytes (a loop-mounted ext4 image; activities/workspace-disk.ts). */
  diskBytes?: number;
}

/** Input of `ensureRunNetwork`. */
export interface RunNetworkInput {
  runId: string;
  /** The run's egress network (outbound access) instead of its isolated one. */
  egress?: boolean;
}

/** What `cleanupRun` removed. */
export interface CleanupResult {
  containers: number;
  volumes: number;
  networks: number;
}

/** The name of a run's isolated network, or of its egress network. */
export function runNetworkName(runId: string, egress = false): string {
  return `conveyor-${slug(runId)}-${egress ? 'egress' : 'net'}`;
}

/** Creates the Docker resource activities bound to a Docker client. */
export function createDockerResourceActivities({ docker, cluster }: { docker: Docker; cluster?: string }) {
  /** Removes a job attempt's workspace volume once the job is done with it (idempotent). */
  async function removeWorkspace(input: WorkspaceInput): Promise<void> {
    try {
      await removeJobWorkspace(docker, input);
    } catch (error) {
      throw toApplicationFailure(wrapDockerError(error, `removing the workspace of job '${input.job}'`));
    }
  }

  /**
   * Creates the run's internal bridge network (no route outside the host), or with `egress` its plain bridge network
   * (outbound access through the host's NAT), idempotently. Returns its name.
   */
  async function ensureRunNetwork({ runId, egress = false }: RunNetworkInput): Promise<string> {
    const name = runNetworkName(runId, egress);
    try {
      const existing = await docker.listNetworks({ filters: { name: [name] } });
      if (!existing.some((network) => network.Name === name)) {
        await docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          Internal: !egress,
          Labels: ownerLabels(runId, cluster),
        });
      }
      return name;
    } catch (error) {
      throw toApplicationFailure(
        wrapDockerError(error, `creating the run's ${egress ? 'egress' : 'isolated'} network`),
      );
    }
  }

  /** Removes every container, volume and network labelled with the run (idempotent; used at run end). */
  async function cleanupRun({ runId }: { runId: string }): Promise<CleanupResult> {
    try {
      return await removeByLabel(docker, `${labels.run}=${runId}`, () => Context.current().heartbeat());
    } catch (error) {
      throw toApplicationFailure(wrapDockerError(error, `cleaning up run ${runId}`));
    }
  }

  return { removeWorkspace, ensureRunNetwork, cleanupRun };
}

/**
 * Creates a job attempt's workspace volume (idempotent) owned by the step user, so steps running as non-root can
 * write to /workspace whatever image they use. Docker fills an empty named volume from the image's directory when a
 * container that mounts it is *created*, ownership included; the housekeeping image's /workspace belongs to the
 * step user, so creating (never starting) one container is enough. When the first container to mount the volume
 * uses the housekeeping image itself (`firstImage`), that container fills it the same way and no helper is needed:
 * creating the labelled volume is then the only Docker call (docs/benchmarks.md, "Where a step's time goes").
 * Returns the volume name.
 */
export async function ensureWorkspace(
  docker: Docker,
  { runId, job, jobAttempt, cluster, diskBytes }: WorkspaceInput,
  firstImage?: string,
): Promise<string> {
  const name = workspaceVolumeName(runId, job, jobAttempt);
  const resourceLabels = { ...ownerLabels(runId, cluster), [labels.job]: job };
  if (diskBytes !== undefined) {
    // A sized workspace's filesystem is made owned by the step user; no helper container is needed.
    if (!(await sizedVolumeOf(docker, name))) await createSizedVolume(docker, name, diskBytes, resourceLabels);
    return name;
  }
  if (firstImage === housekeepingImage) {
    // Creating an existing volume returns it unchanged, so this is idempotent too.
    await docker.createVolume({ Name: name, Labels: resourceLabels });
    return name;
  }
  try {
    await docker.getVolume(name).inspect();
    return name;
  } catch (error) {
    if (!isDockerNotFound(error)) throw error;
  }
  await docker.createVolume({ Name: name, Labels: resourceLabels });
  const helperOptions: Docker.ContainerCreateOptions & { name: string } = {
    name: `${name}-init`,
    Image: housekeepingImage,
    Cmd: ['true'],
    Labels: resourceLabels,
    HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: name, Target: '/workspace' }] },
  };
  const helper = await docker.createContainer(helperOptions).catch(async (error: unknown) => {
    // A crashed earlier attempt left its helper behind: replace it.
    if ((error as { statusCode?: number }).statusCode !== 409) throw error;
    await ignoreMissing(docker.getContainer(helperOptions.name).remove({ force: true }));
    return docker.createContainer(helperOptions);
  });
  await helper.remove({ force: true });
  return name;
}

/** Removes a job attempt's workspace volume and any container still holding it (idempotent). */
export async function removeJobWorkspace(docker: Docker, input: WorkspaceInput): Promise<void> {
  // A step that failed or was cancelled may leave the container made ahead for the next one (never started).
  const volume = workspaceVolumeName(input.runId, input.job, input.jobAttempt);
  for (const info of await docker.listContainers({ all: true, filters: { volume: [volume] } })) {
    await removeContainer(docker.getContainer(info.Id));
  }
  await removeVolumeWhenFree(docker, volume);
}

/** Removes a job attempt's workspace volume; a missing one is fine. */
export async function deleteWorkspace(docker: Docker, { runId, job, jobAttempt }: WorkspaceInput): Promise<void> {
  const name = workspaceVolumeName(runId, job, jobAttempt);
  const sized = await sizedVolumeOf(docker, name);
  const layer = await overlayLayerOf(docker, name);
  await ignoreMissing(docker.getVolume(name).remove());
  await releaseSizedVolume(sized);
  await releaseOverlayLayer(layer);
}

/** Removes containers first (they hold volumes and networks), then volumes, then networks matching a label filter. */
export async function removeByLabel(
  docker: Docker,
  label: string,
  progress: () => void = () => {},
): Promise<CleanupResult> {
  const filters = { label: [label] };
  const result: CleanupResult = { containers: 0, volumes: 0, networks: 0 };
  for (const info of await docker.listContainers({ all: true, filters })) {
    await removeContainer(docker.getContainer(info.Id));
    result.containers += 1;
    progress();
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const volume of Volumes ?? []) {
    await removeVolumeWhenFree(docker, volume.Name);
    result.volumes += 1;
    progress();
  }
  for (const network of await docker.listNetworks({ filters })) {
    await ignoreMissing(docker.getNetwork(network.Id).remove());
    result.networks += 1;
    progress();
  }
  return result;
}

/**
 * Removes a container; when a step's own background removal is already under way (409), waits until it is gone, so
 * a run's cleanup ends with nothing left.
 */
async function removeContainer(container: Docker.Container): Promise<void> {
  try {
    await ignoreMissing(container.remove({ force: true, v: true }));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 409) throw error;
    // The run's cleanup follows its last step at once, so it often meets that step's removal still under way (a
    // few ms on a quiet engine): poll from 10 ms, doubling up to 1 s, about a minute in all.
    for (let tries = 1; tries <= 60; tries += 1) {
      const gone = await container.inspect().then(
        () => false,
        (inspectError: unknown) => isDockerNotFound(inspectError),
      );
      if (gone) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** (tries - 1), 1000)));
    }
    throw error;
  }
}

/** Removes a volume, waiting a little while a container that is being removed still holds it (409). */
async function removeVolumeWhenFree(docker: Docker, name: string): Promise<void> {
  const sized = await sizedVolumeOf(docker, name);
  const layer = await overlayLayerOf(docker, name);
  for (let tries = 1; ; tries += 1) {
    try {
      await ignoreMissing(docker.getVolume(name).remove());
      await releaseSizedVolume(sized);
      await releaseOverlayLayer(layer);
      return;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 409 || tries >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * tries));
    }
  }
}

async function ignoreMissing(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if (!isDockerNotFound(error)) throw error;
  }
}
