/**
 * Reading and writing a job's workspace (docs/artifacts.md#workspace-io). Through the Docker API — never through a
 * guessed `/var/lib/docker` path — so a remote Docker engine works: a housekeeping container that mounts the
 * workspace volume is created (never started), and its archive endpoints (`GET/PUT /containers/{id}/archive`) read
 * files out and put them in. When the engine is local, directly through the volume's `Mountpoint` as the engine
 * reports it (`localWorkspaceDir`), never following a symlink.
 */
import { constants } from 'node:fs';
import { access, chmod, lchown, link, lstat, mkdir, open, symlink, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { isDockerNotFound, wrapDockerError } from '../docker-errors';
import { housekeepingImage } from '../docker-resources';
import { labels, ownerLabels, workspaceVolumeName } from '../names';
import { entriesUnder, normaliseEntryPath, writeContent, type SourceEntry } from './archive-entry';
import { Readable } from 'node:stream';
import { chunkSize } from '../store/scratch';
import { UnsafeEntryError } from './path-safety';
import { packArchive } from './tar-pack';

/** Which job attempt's workspace. */
export interface WorkspaceRef {
  runId: string;
  job: string;
  jobAttempt?: number;
  /** The owning cluster's label value (see `labels.cluster`). */
  cluster?: string;
  /** `resources.disk`: the size limit of a workspace this activity creates (docs/runs.md, "Limits"). */
  diskBytes?: number;
}

/** The workspace of a job attempt an activity works on, owned by the worker's cluster. */
export function workspaceRef(
  input: { runId: string; job: string; jobAttempt?: number; diskBytes?: number },
  cluster: string | undefined,
): WorkspaceRef {
  const ref: WorkspaceRef = { runId: input.runId, job: input.job, jobAttempt: input.jobAttempt, cluster };
  return input.diskBytes === undefined ? ref : { ...ref, diskBytes: input.diskBytes };
}

/** Where the workspace is mounted in step containers and in the housekeeping container. */
export const workspaceMount = '/workspace';

/**
 * Runs `body` with a created (not started) container mounting the workspace volume, removed afterwards. Its name is
 * derived from the workspace, so a retried activity replaces whatever a crashed attempt left.
 */
export async function withWorkspaceContainer<T>(
  docker: Docker,
  ref: WorkspaceRef,
  body: (container: Docker.Container) => Promise<T>,
): Promise<T> {
  const volume = workspaceVolumeName(ref.runId, ref.job, ref.jobAttempt);
  const name = `${volume}-io`;
  await removeContainer(docker, name);
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name,
      Image: housekeepingImage,
      Cmd: ['true'],
      Labels: { ...ownerLabels(ref.runId, ref.cluster), [labels.job]: ref.job },
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume, Target: workspaceMount }] },
    });
  } catch (error) {
    throw wrapDockerError(error, `opening the workspace of job '${ref.job}'`);
  }
  try {
    return await body(container);
  } finally {
    await removeContainer(docker, name);
  }
}

/** Whether the workspace volume of a job attempt exists. */
export async function workspaceExists(docker: Docker, ref: WorkspaceRef): Promise<boolean> {
  try {
    await docker.getVolume(workspaceVolumeName(ref.runId, ref.job, ref.jobAttempt)).inspect();
    return true;
  } catch (error) {
    if (isDockerNotFound(error)) return false;
    throw wrapDockerError(error, `inspecting the workspace of job '${ref.job}'`);
  }
}

/**
 * The workspace's entries under `bases` (workspace-relative, `''` for all) in canonical order. Docker's archive API
 * walks each directory in name order, which is the canonical order; a source that does not is caught by the packer
 * (OutOfOrderError) and packed through `sortedEntries` instead.
 */
export function workspaceEntries(container: Docker.Container, bases: readonly string[]): AsyncIterable<SourceEntry> {
  return entriesUnder(bases, (base) => baseEntries(container, base));
}

async function* baseEntries(container: Docker.Container, base: string): AsyncIterable<SourceEntry> {
  const archive = await getArchive(container, base);
  if (!archive) return;
  // Docker names entries after the last segment of the requested path: `b/…` for `/workspace/a/b`.
  const parent = base === '' ? '' : posix.dirname(base) === '.' ? '' : posix.dirname(base);
  const toWorkspacePath = (name: string) => {
    const normalised = normaliseEntryPath(name);
    if (base === '') return normalised.split('/').slice(1).join('/');
    return parent ? `${parent}/${normalised}` : normalised;
  };
  yield* dockerArchiveEntries(archive, toWorkspacePath);
}

/** Maps the entries of a Docker archive stream to workspace entries (the root itself is skipped). */
export async function* dockerArchiveEntries(
  archive: Readable,
  toWorkspacePath: (name: string) => string,
): AsyncIterable<SourceEntry> {
  const extract = tar.extract();
  archive.once('error', (error) => extract.destroy(error));
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const header = entry.header;
      const path = toWorkspacePath(header.name);
      if (path === '') {
        entry.resume();
        continue;
      }
      const type =
        header.type === 'file' || header.type === 'directory' || header.type === 'symlink' || header.type === 'link'
          ? header.type
          : 'other';
      yield {
        path,
        type,
        mode: header.mode ?? 0o644,
        size: type === 'file' ? (header.size ?? 0) : 0,
        linkname: type === 'link' ? toWorkspacePath(header.linkname ?? '') : (header.linkname ?? undefined),
        body: type === 'file' ? Readable.from(entry, { objectMode: false, highWaterMark: chunkSize }) : undefined,
      };
      entry.resume();
    }
  } catch (error) {
    // The engine's archive is well-formed; a failure here is the connection or the engine.
    throw wrapDockerError(error, 'reading the workspace archive');
  } finally {
    archive.destroy();
  }
}

async function getArchive(container: Docker.Container, base: string): Promise<Readable | undefined> {
  const path = base === '' ? workspaceMount : `${workspaceMount}/${base}`;
  try {
    return (await container.getArchive({ path })) as unknown as Readable;
  } catch (error) {
    if (isDockerNotFound(error)) return undefined;
    throw wrapDockerError(error, `reading ${path} from the workspace`);
  }
}

/** Extracts a tar stream into the workspace root through Docker's archive API. */
export async function putIntoWorkspace(container: Docker.Container, archive: Readable): Promise<void> {
  try {
    await container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: workspaceMount });
  } catch (error) {
    throw wrapDockerError(error, 'writing into the workspace');
  }
}

async function removeContainer(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getContainer(name).remove({ force: true });
  } catch (error) {
    if (!isDockerNotFound(error)) throw wrapDockerError(error, `removing container ${name}`);
  }
}

/**
 * The host directory of the workspace volume when the Docker engine is local (a unix socket), the volume uses the
 * `local` driver and this process may read and write its `Mountpoint` (docs/artifacts.md#workspace-io); undefined
 * otherwise — a remote engine, another driver, no access, or `CONVEYOR_WORKSPACE_IO=archive` — and the archive API
 * is used instead. The path comes from the engine (`docker volume inspect`), never from a guess.
 */
export async function localWorkspaceDir(docker: Docker, ref: WorkspaceRef): Promise<string | undefined> {
  if (process.env.CONVEYOR_WORKSPACE_IO === 'archive') return undefined;
  const modem = docker.modem as { socketPath?: unknown; host?: unknown };
  // dockerode's default socket path is a function that finds the local socket; a TCP engine has a host instead.
  if (modem.socketPath === undefined || modem.host) return undefined;
  try {
    const volume = (await docker.getVolume(workspaceVolumeName(ref.runId, ref.job, ref.jobAttempt)).inspect()) as {
      Driver?: string;
      Mountpoint?: string;
      Options?: Record<string, string> | null;
    };
    // A volume that mounts a device (a size-limited workspace) is mounted only while a container runs.
    if (volume.Driver !== 'local' || !volume.Mountpoint || volume.Options?.device) return undefined;
    await access(volume.Mountpoint, constants.R_OK | constants.W_OK | constants.X_OK);
    return (await lstat(volume.Mountpoint)).isDirectory() ? volume.Mountpoint : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `bases` (workspace-relative) can be read straight from the workspace directory `root`: no directory
 * leading to one of them is a symlink or anything but a directory. The walk itself never follows a symlink (they are
 * packed as links, files are opened with `O_NOFOLLOW`), so only these leading paths could lead out of `root`.
 */
export async function readableDirectly(root: string, bases: readonly string[]): Promise<boolean> {
  for (const base of bases) {
    const segments = base === '' ? [] : base.split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      const found = await lstat(join(root, ...segments.slice(0, depth))).catch(ignoreMissing);
      if (!found) break; // nothing there, so nothing to read either way
      if (!found.isDirectory()) return false;
    }
  }
  return true;
}

/**
 * Writes already verified, safety-checked entries into the job's workspace, owned by `owner`: straight into the
 * volume's directory when the engine is local (`localWorkspaceDir`), through Docker's archive API otherwise. Returns
 * which way it went.
 */
export async function extractIntoWorkspace(
  docker: Docker,
  ref: WorkspaceRef,
  entries: AsyncIterable<SourceEntry>,
  owner: { uid: number; gid: number },
): Promise<'direct' | 'archive'> {
  const dir = await localWorkspaceDir(docker, ref);
  if (dir) {
    await writeEntries(dir, entries, owner);
    return 'direct';
  }
  await withWorkspaceContainer(docker, ref, async (container) => {
    const { stream, summary } = packArchive(entries, { owner, ordered: false });
    await Promise.all([putIntoWorkspace(container, stream), summary]);
  });
  return 'archive';
}

/**
 * Writes entries under `root` as the archive API would (replacing files, keeping directories), streaming each
 * file's content with backpressure. Nothing is ever written through a symlink: every parent directory is checked
 * with `lstat` (a symlink or a file in the way is refused), and files are created anew with `O_EXCL | O_NOFOLLOW`.
 */
async function writeEntries(
  root: string,
  entries: AsyncIterable<SourceEntry>,
  owner: { uid: number; gid: number },
): Promise<void> {
  const directories = new Set<string>(['']);
  const ensureDirectory = async (relative: string): Promise<void> => {
    if (directories.has(relative)) return;
    await ensureDirectory(parentOf(relative));
    const absolute = join(root, relative);
    const found = await lstat(absolute).catch(ignoreMissing);
    if (!found) {
      await mkdir(absolute, { mode: 0o755 });
      await lchown(absolute, owner.uid, owner.gid);
    } else if (!found.isDirectory()) {
      throw new UnsafeEntryError(relative, 'is in the workspace already and is not a directory');
    }
    directories.add(relative);
  };
  const clear = async (relative: string): Promise<void> => {
    const found = await lstat(join(root, relative)).catch(ignoreMissing);
    if (found?.isDirectory()) throw new UnsafeEntryError(relative, 'is a directory in the workspace already');
    if (found) await unlink(join(root, relative));
  };
  for await (const entry of entries) {
    const absolute = join(root, entry.path);
    if (entry.type === 'directory') {
      await ensureDirectory(entry.path);
      await chmod(absolute, 0o755);
      continue;
    }
    await ensureDirectory(parentOf(entry.path));
    if (entry.type === 'file') {
      await clear(entry.path);
      const mode = entry.mode & 0o111 ? 0o755 : 0o644;
      const handle = await open(
        absolute,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        mode,
      );
      try {
        await handle.chown(owner.uid, owner.gid);
        await handle.chmod(mode);
      } catch (error) {
        await handle.close();
        throw error;
      }
      await writeContent(handle, entry);
    } else if (entry.type === 'symlink') {
      await clear(entry.path);
      await symlink(entry.linkname ?? '', absolute);
      await lchown(absolute, owner.uid, owner.gid);
    } else if (entry.type === 'link') {
      await clear(entry.path);
      await link(join(root, entry.linkname ?? ''), absolute);
    } else {
      throw new UnsafeEntryError(entry.path, 'is not a file, directory or link');
    }
  }
}

function parentOf(relative: string): string {
  const parent = posix.dirname(relative);
  return parent === '.' ? '' : parent;
}

function ignoreMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT') return undefined;
  throw error;
}
