/**
 * Overlay workspaces (docs/triggers.md, "Overlay workspaces"): a job's workspace volume is an overlay mount made by
 * the Docker engine's `local` driver — the run's shared, read-only source tree (activities/source/source-trees.ts)
 * as its lower layer, and a writable layer of the job's own — so the job starts with the whole tree without copying
 * it, and what it writes or deletes stays in its own layer. The engine mounts it while a step's container runs, like
 * a size-limited workspace (activities/workspace-disk.ts); the layer is removed with the volume (job end, run
 * cleanup, the sweeper).
 */
import { chown, mkdir, readFile, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { isDockerNotFound } from './docker-errors';
import { systemTarAvailable } from './artifacts/system-tar';
import { volumeLabels } from './volume-labels';
import { overlayLowerLabel, type SourceTrees } from './source/source-trees';

/** The volume label naming an overlay workspace's writable layer directory (removed with the volume). */
export const overlayLayerLabel = 'conveyor.overlay-layer';

/** overlayfs cannot use a directory on overlayfs as its upper layer (the worker's own filesystem inside a container). */
const overlayfsMagic = 0x794c7630;

const usable = new Map<string, Promise<boolean>>();

/**
 * Whether jobs can get overlay workspaces with trees under `dir` (asked once per process and directory): the worker
 * runs as root, the engine is local and on this host (its data directory is visible here), the kernel has overlayfs,
 * `dir` is on a filesystem that can hold an upper layer and its path needs no escaping in mount options, the system
 * tar is there, and neither `CONVEYOR_WORKSPACE_IO` nor `CONVEYOR_WORKSPACE_OVERLAY=off` asks for another way.
 */
export function overlayWorkspacesUsable(docker: Docker, dir: string): Promise<boolean> {
  if (process.env.CONVEYOR_WORKSPACE_OVERLAY === 'off' || process.env.CONVEYOR_WORKSPACE_IO) {
    return Promise.resolve(false);
  }
  let answer = usable.get(dir);
  if (!answer) {
    answer = probe(docker, dir).catch(() => false);
    usable.set(dir, answer);
  }
  return answer;
}

async function probe(docker: Docker, dir: string): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  // Commas and colons separate overlay mount options and layers.
  if (!/^\/[A-Za-z0-9_./+-]*$/.test(dir)) return false;
  const modem = docker.modem as { socketPath?: unknown; host?: unknown };
  if (modem.socketPath === undefined || modem.host) return false;
  if (!/\boverlay$/m.test(await readFile('/proc/filesystems', 'utf8'))) return false;
  if (!(await systemTarAvailable())) return false;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if ((await statfs(dir)).type === overlayfsMagic) return false;
  // The engine's data directory visible here means the engine runs on this host and sees the same paths.
  const info = (await docker.info()) as { DockerRootDir?: string; Driver?: string };
  if (!info.DockerRootDir) return false;
  await statfs(join(info.DockerRootDir, 'volumes'));
  return true;
}

/**
 * Creates the workspace volume `name` as an overlay of the tree at `lowerDir` (key `treeKey`) with a fresh writable
 * layer owned by `owner` (the layer's root gives `/workspace` its owner and mode).
 */
export async function createOverlayWorkspace(
  docker: Docker,
  trees: SourceTrees,
  request: {
    name: string;
    lowerDir: string;
    treeKey: string;
    labels: Record<string, string>;
    owner: { uid: number; gid: number };
  },
): Promise<void> {
  const layer = trees.jobDir(request.name);
  // A crashed earlier attempt's layer (its volume never made) is replaced.
  await rm(layer, { recursive: true, force: true });
  const upper = join(layer, 'upper');
  const work = join(layer, 'work');
  await mkdir(layer, { mode: 0o700 });
  await mkdir(upper, { mode: 0o755 });
  await chown(upper, request.owner.uid, request.owner.gid);
  await mkdir(work, { mode: 0o700 });
  try {
    await docker.createVolume({
      Name: request.name,
      Driver: 'local',
      DriverOpts: {
        type: 'overlay',
        device: 'overlay',
        o: `lowerdir=${request.lowerDir},upperdir=${upper},workdir=${work}`,
      },
      Labels: { ...request.labels, [overlayLowerLabel]: request.treeKey, [overlayLayerLabel]: layer },
    });
  } catch (error) {
    await rm(layer, { recursive: true, force: true });
    throw error;
  }
}

/** Removes an overlay workspace no container has used yet, and its layer (idempotent). */
export async function removeOverlayWorkspace(docker: Docker, trees: SourceTrees, name: string): Promise<void> {
  await docker
    .getVolume(name)
    .remove()
    .catch((error: unknown) => {
      if (!isDockerNotFound(error)) throw error;
    });
  await trees.releaseJob(name);
}

/** An overlay workspace's writable layer directory, read before removing the volume; undefined for other volumes. */
export async function overlayLayerOf(docker: Docker, name: string): Promise<string | undefined> {
  const layer = (await volumeLabels(docker, name))?.[overlayLayerLabel];
  // Only a directory named after this very volume is ever removed, whatever a label says.
  return layer && layer.endsWith(`/jobs/${name}`) ? layer : undefined;
}

/** Removes an overlay workspace's writable layer once its volume is gone (the engine unmounted it). */
export async function releaseOverlayLayer(layer: string | undefined): Promise<void> {
  if (layer) await rm(layer, { recursive: true, force: true });
}
