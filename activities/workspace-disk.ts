/**
 * Size-limited workspaces (`resources.disk`; docs/runs.md, "Limits"): the job's workspace volume is an ext4
 * filesystem in a sparse image file, attached to a loop device by the worker and mounted by the Docker engine's
 * `local` driver whenever a step's container runs, so the files persist from step to step and a step that writes
 * past the size gets ENOSPC. The worker must run as root on the Docker host (losetup, mkfs.ext4). The image file and
 * the loop device are released whenever the volume is removed (job end, run cleanup, the sweeper).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { PipelineConfigError } from './errors';

const run = promisify(execFile);

/** The label naming a sized workspace's image file (its loop device is in the volume's `device` option). */
export const diskImageLabel = 'conveyor.disk-image';

/** Where the image files are: `CONVEYOR_DISK_DIR`, else `conveyor-disks` in the temp dir (same host as Docker). */
export function diskImageDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CONVEYOR_DISK_DIR || path.join(tmpdir(), 'conveyor-disks');
}

/**
 * Creates a volume `name` of at most `bytes`, owned by the step user: a sparse file, `mkfs.ext4` (no reserved
 * blocks, no lost+found left in the workspace), a loop device, and a `local` volume mounting it.
 */
export async function createSizedVolume(
  docker: Docker,
  name: string,
  bytes: number,
  volumeLabels: Record<string, string>,
): Promise<void> {
  const dir = diskImageDir();
  mkdirSync(dir, { recursive: true });
  const image = path.join(dir, `${name}.img`);
  let device: string | undefined;
  try {
    writeFileSync(image, '');
    await run('truncate', ['-s', String(bytes), image]);
    await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', 'root_owner=1000:1000', image]);
    await run('debugfs', ['-w', '-R', 'rmdir lost+found', image]);
    device = (await run('losetup', ['--find', '--show', image])).stdout.trim();
    await docker.createVolume({
      Name: name,
      Driver: 'local',
      DriverOpts: { type: 'ext4', device },
      Labels: { ...volumeLabels, [diskImageLabel]: image },
    });
  } catch (error) {
    if (device) await run('losetup', ['-d', device]).catch(() => undefined);
    rmSync(image, { force: true });
    const why = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new PipelineConfigError(
      `resources.disk: could not make a ${bytes}-byte workspace (${why}); a size-limited workspace needs a worker ` +
        'running as root on the Docker host with loop devices, mkfs.ext4 and debugfs (e2fsprogs); remove resources.disk otherwise',
    );
  }
}

/** What a volume needs released after its removal: its image file and loop device, when it is a sized one. */
export interface SizedVolume {
  image: string;
  device?: string;
}

/** The sized-workspace parts of a volume, read before removing it; undefined for an ordinary volume. */
export async function sizedVolumeOf(docker: Docker, name: string): Promise<SizedVolume | undefined> {
  try {
    const info = (await docker.getVolume(name).inspect()) as {
      Labels?: Record<string, string>;
      Options?: Record<string, string>;
    };
    const image = info.Labels?.[diskImageLabel];
    return image ? { image, device: info.Options?.device } : undefined;
  } catch {
    return undefined;
  }
}

/** Detaches the loop device (only while it still holds this image) and deletes the image file. */
export async function releaseSizedVolume(sized: SizedVolume | undefined): Promise<void> {
  if (!sized) return;
  if (sized.device && (await backingFile(sized.device)) === sized.image) {
    await run('losetup', ['-d', sized.device]).catch(() => undefined);
  }
  rmSync(sized.image, { force: true });
}

/**
 * Whether a sized workspace is (almost) full, as its ext4 superblock says once the step's container has exited:
 * less than 2 % or 1 MiB free (ext4 refuses writes a little before its last block: metadata and reservations).
 */
export async function isSizedVolumeFull(docker: Docker, name: string): Promise<boolean> {
  const sized = await sizedVolumeOf(docker, name);
  if (!sized?.device) return false;
  try {
    const { stdout } = await run('dumpe2fs', ['-h', sized.device]);
    const field = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(stdout)?.[1] ?? NaN);
    const [free, total, size] = [field('Free blocks'), field('Block count'), field('Block size')];
    return free * size < Math.max(1024 * 1024, total * size * 0.02);
  } catch {
    return false;
  }
}

async function backingFile(device: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('losetup', ['--noheadings', '--output', 'BACK-FILE', device]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}
