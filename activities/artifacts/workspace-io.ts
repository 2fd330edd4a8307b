/**
 * Reading and writing a job's workspace through the Docker API — never through `/var/lib/docker` — so a remote
 * Docker engine works: a housekeeping container that mounts the workspace volume is created (never started), and
 * its archive endpoints (`GET/PUT /containers/{id}/archive`) read files out and put them in.
 */
import { posix } from 'node:path';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { isDockerNotFound, wrapDockerError } from '../docker-errors';
import { housekeepingImage } from '../docker-resources';
import { labels, ownerLabels, workspaceVolumeName } from '../names';
import { entriesUnder, normaliseEntryPath, type SourceEntry } from './archive-entry';
import { Readable } from 'node:stream';
import { chunkSize } from '../store/scratch';

/** Which job attempt's workspace. */
export interface WorkspaceRef {
  runId: string;
  job: string;
  jobAttempt?: number;
  /** The owning cluster's label value (see `labels.cluster`). */
  cluster?: string;
}

/** The workspace of a job attempt an activity works on, owned by the worker's cluster. */
export function workspaceRef(
  input: { runId: string; job: string; jobAttempt?: number },
  cluster: string | undefined,
): WorkspaceRef {
  return { runId: input.runId, job: input.job, jobAttempt: input.jobAttempt, cluster };
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
