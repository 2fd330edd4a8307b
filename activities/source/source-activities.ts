/**
 * The source activities (docs/triggers.md), on the Docker task queue beside the artifact activities:
 *
 * - `prepareScheduledRun`: when a schedule fires, resolves its branch to the latest commit, reads the pipeline file
 *   at that commit and validates it, giving the run's input (the workflow cannot parse: no parser libraries in the
 *   workflow bundle).
 * - `archiveSource`: once per run, a `git archive` of the run's commit streamed into the artifact store
 *   (content-addressed: the same commit gives the same object), held by a reference of the run until it ends.
 * - `extractSource`: before a job's first step, fetches that archive, verifies its size and SHA-256 and checks every
 *   entry (once per worker for the jobs that start together), and only then extracts it into the job's
 *   `/workspace` (or a sub-path): with the system tar as the step user when the workspace is a local, empty volume,
 *   entry by entry otherwise (docs/artifacts.md#workspace-io) — steps need neither git nor credentials, and every
 *   job of the run sees the same tree.
 */
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { parsePipeline } from '../../pipeline';
import { sourceVariables, type RunSource, type SourceArchive, type SourceProvider } from '../../pipeline/source';
import type { PipelineRunInput } from '../../workflows/pipeline-run-messages';
import type { SourceEntry } from '../artifacts/archive-entry';
import { archiveEntries } from '../artifacts/archive-read';
import { ArtifactCatalog, jobHolder } from '../artifacts/catalog';
import { classifyArtifactError } from '../artifacts/errors';
import { SharedArchives } from '../artifacts/shared-content';
import { extractWithSystemTar } from '../artifacts/system-tar';
import { packArchive } from '../artifacts/tar-pack';
import { extractIntoWorkspace, localWorkspaceDir, workspaceRef } from '../artifacts/workspace-io';
import { wrapDockerError } from '../docker-errors';
import { ensureWorkspace } from '../docker-resources';
import { stepUser } from '../docker-step';
import { PipelineConfigError, toApplicationFailure } from '../errors';
import { formatDigest, parseDigest, type ArtifactStore } from '../store/store';
import { overlayWorkspacesUsable } from '../workspace-overlay';
import { checkoutIntoOverlay } from './overlay-checkout';
import type { GitRepositories } from './repositories';
import type { SourceTrees } from './source-trees';

/** What the source activities are wired to (STYLE.md 5). */
export interface SourceActivityDeps {
  repositories: GitRepositories;
  /** Image for steps that name none. */
  defaultImage: string;
  /** Where source archives are kept: the artifact store. */
  store: ArtifactStore;
  docker: Docker;
  /** Local scratch directory for verified downloads. */
  spoolDir: string;
  /** The owning cluster's label value, set on the housekeeping containers. */
  cluster?: string;
  /**
   * The host's shared source trees: with them, jobs get overlay workspaces where the host allows it
   * (docs/triggers.md, "Overlay workspaces"); without them, every job extracts the archive itself.
   */
  trees?: SourceTrees;
}

/** Which commit to archive for which run. */
export interface ArchiveSourceInput {
  runId: string;
  repository: string;
  commit: string;
  ref?: string;
  /** Include the commit's submodules, each at its recorded commit (pipeline `checkout: {submodules: true}`). */
  submodules?: boolean;
}

/** Which job attempt gets the run's source archive, and where under /workspace. */
export interface ExtractSourceInput {
  runId: string;
  job: string;
  jobAttempt: number;
  archive: SourceArchive;
  /** Sub-path of /workspace ('' for /workspace itself). */
  path: string;
  /** The job's `resources.disk`, when it creates the workspace (docs/runs.md, "Limits"). */
  diskBytes?: number;
}

/** What `extractSource` did: how many files, which way, and where its time went (docs/benchmarks.md). */
export interface ExtractedSource {
  files: number;
  /** `overlay`: an overlay of the host's shared tree (docs/triggers.md, "Overlay workspaces"); `tar`: the system
   * tar into an empty local workspace; `direct`: entry by entry through the volume's mountpoint; `archive`: through
   * Docker's archive API (docs/artifacts.md#workspace-io). */
  via: 'overlay' | 'tar' | 'direct' | 'archive';
  /** Milliseconds: creating the workspace, fetching and verifying the archive and checking its entries (0 when
   * another job of this worker had just done it), waiting for such a job, and extracting (for `overlay`: checking
   * and extracting the shared tree in one pass, 0 when it was there already). */
  timings: { workspaceMs: number; fetchMs: number; checkMs: number; waitMs: number; extractMs: number };
}

/** The holder name of a run's reference to its source archive. */
export function sourceHolder(runId: string): string {
  return jobHolder(runId, '~source');
}

/** What a schedule starts: a pipeline file of a repository, on a branch. */
export interface ScheduledRunInput {
  /** The schedule's id. */
  schedule: string;
  pipeline: string;
  repository: string;
  branch: string;
  /** The pipeline file, relative to the repository root. */
  file: string;
  provider?: SourceProvider;
}

/** The run a schedule starts, or why it cannot. */
export interface PreparedScheduledRun {
  input: PipelineRunInput;
}

/** Creates the source activities. */
export function createSourceActivities(deps: SourceActivityDeps) {
  const { repositories } = deps;
  const catalog = new ArtifactCatalog(deps.store);
  const shared = new SharedArchives(deps.store, deps.spoolDir);

  async function prepareScheduledRun(request: ScheduledRunInput): Promise<PreparedScheduledRun> {
    try {
      const resolved = await repositories.resolve(request.repository, request.branch);
      const [text, info] = await Promise.all([
        repositories.readFile(request.repository, resolved.commit, request.file),
        repositories.commitInfo(request.repository, resolved.commit),
      ]);
      const source: RunSource = {
        repository: request.repository,
        commit: resolved.commit,
        ref: resolved.ref ?? `refs/heads/${request.branch}`,
        branch: request.branch,
        author: info.author,
        message: info.message,
        event: 'schedule',
        pipelineFile: request.file,
        ...(request.provider ? { provider: request.provider } : {}),
      };
      const result = parsePipeline(text, {
        file: request.file,
        defaultImage: deps.defaultImage,
        system: sourceVariables(source, 'schedule'),
      });
      if (!result.valid) {
        const first = result.errors[0]!;
        throw new PipelineConfigError(
          `${request.file} at ${resolved.commit.slice(0, 12)} is invalid: line ${first.line}: ${first.message}`,
          { file: request.file, commit: resolved.commit, line: first.line, column: first.column, code: first.code },
        );
      }
      return { input: { pipeline: result.pipeline, vars: {}, trigger: `schedule:${request.schedule}`, source } };
    } catch (error) {
      throw toApplicationFailure(error);
    }
  }

  async function archiveSource(input: ArchiveSourceInput): Promise<SourceArchive> {
    const ctx = Context.current();
    try {
      await repositories.ensureCommit(input.repository, input.commit, input.ref);
      const { tar, files } = input.submodules
        ? await archiveWithSubmodules(repositories, input, ctx.cancellationSignal)
        : {
            tar: await repositories.archive(input.repository, input.commit, ctx.cancellationSignal),
            files: await repositories.countFiles(input.repository, input.commit),
          };
      const since = new Date().toISOString();
      const put = await deps.store.putContent(tar, {
        // Held before the object is published or found: retention re-checks references before deleting.
        onDigest: (digest) =>
          catalog.addReference(digest, sourceHolder(input.runId), {
            kind: 'job',
            run: input.runId,
            job: '~source',
            since,
          }),
        onProgress: () => ctx.heartbeat(),
        signal: ctx.cancellationSignal,
      });
      return { digest: formatDigest(put.digest), size: put.size, files };
    } catch (error) {
      throw toApplicationFailure(error);
    }
  }

  async function extractSource(input: ExtractSourceInput): Promise<ExtractedSource> {
    const ctx = Context.current();
    const ref = workspaceRef(input, deps.cluster);
    const started = performance.now();
    try {
      const overlaid = await extractIntoOverlay(input, ctx);
      if (overlaid) return overlaid;
      await ensureWorkspace(deps.docker, ref).catch((error: unknown) => {
        throw wrapDockerError(error, `preparing the workspace of job '${input.job}'`);
      });
      const prepared = performance.now();
      const classify = (error: unknown) =>
        classifyArtifactError(error, { artifact: 'source', digest: input.archive.digest });
      // Nothing reaches the workspace before the whole archive has been checked against its digest and size, and
      // every entry against the extraction guard; jobs extracting the same archive at once share one such copy.
      const archive = await shared
        .acquire(parseDigest(input.archive.digest), input.archive.size, () => ctx.heartbeat(), ctx.cancellationSignal)
        .catch((error: unknown) => {
          throw classify(error);
        });
      const fetched = performance.now();
      try {
        const owner = stepOwner();
        const dir = await localWorkspaceDir(deps.docker, ref);
        const fast =
          dir !== undefined &&
          (await extractWithSystemTar(dir, input.path, archive.open, owner, {
            signal: ctx.cancellationSignal,
            onProgress: () => ctx.heartbeat(),
          }).catch((error: unknown) => {
            throw classify(error);
          }));
        let files = archive.contents.files;
        let via: ExtractedSource['via'] = 'tar';
        if (!fast) {
          files = 0;
          const entries = underPath(archiveEntries(archive.open(), 'none'), input.path, () => (files += 1));
          via = await extractIntoWorkspace(deps.docker, ref, entries, owner).catch((error: unknown) => {
            throw classify(error);
          });
        }
        const timings = {
          workspaceMs: prepared - started,
          ...archive.timings,
          waitMs: fetched - prepared - archive.timings.fetchMs - archive.timings.checkMs,
          extractMs: performance.now() - fetched,
        };
        return { files, via, timings: roundTimings(timings) };
      } finally {
        await archive.release();
      }
    } catch (error) {
      throw toApplicationFailure(error);
    }
  }

  /** The overlay checkout when this host and job allow it (not for `resources.disk`); undefined otherwise. */
  async function extractIntoOverlay(input: ExtractSourceInput, ctx: Context): Promise<ExtractedSource | undefined> {
    const trees = deps.trees;
    if (!trees || input.diskBytes !== undefined || !(await overlayWorkspacesUsable(deps.docker, trees.dir))) {
      return undefined;
    }
    const timings = await checkoutIntoOverlay({
      docker: deps.docker,
      store: deps.store,
      trees,
      spoolDir: deps.spoolDir,
      runId: input.runId,
      job: input.job,
      jobAttempt: input.jobAttempt,
      cluster: deps.cluster,
      archive: input.archive,
      path: input.path,
      owner: stepOwner(),
      signal: ctx.cancellationSignal,
      onProgress: () => ctx.heartbeat(),
    }).catch((error: unknown) => {
      throw classifyArtifactError(error, { artifact: 'source', digest: input.archive.digest });
    });
    if (!timings) return undefined;
    return {
      files: input.archive.files,
      via: 'overlay',
      timings: roundTimings({ ...timings, checkMs: 0 }),
    };
  }

  return { prepareScheduledRun, archiveSource, extractSource };
}

/**
 * One tar of the commit with its submodules (recursively) in place, each at the commit its superproject records:
 * the entries of every `git archive`, the submodules' moved under their paths, packed again (deterministic, so the
 * same commit still gives the same object). Gitlinks themselves are no files and git archives none.
 */
async function archiveWithSubmodules(
  repositories: GitRepositories,
  input: ArchiveSourceInput,
  signal: AbortSignal,
): Promise<{ tar: Readable; files: number }> {
  const parts: Array<{ repository: string; commit: string; path: string }> = [];
  let files = 0;
  const collect = async (repository: string, commit: string, base: string, depth: number): Promise<void> => {
    parts.push({ repository, commit, path: base });
    files += await repositories.countFiles(repository, commit);
    if (depth > 8) return;
    for (const submodule of await repositories.submodules(repository, commit)) {
      files -= 1; // the gitlink counted above is a directory of the submodule's files, not a file
      await repositories.ensureCommit(submodule.url, submodule.commit);
      await collect(submodule.url, submodule.commit, posix.join(base, submodule.path), depth + 1);
    }
  };
  await collect(input.repository, input.commit, '', 0);
  async function* entries(): AsyncIterable<SourceEntry> {
    // A submodule's directory is in its superproject's archive (empty) and in its own: packed once.
    const directories = new Set<string>();
    for (const part of parts) {
      const tar = await repositories.archive(part.repository, part.commit, signal);
      for await (const entry of underPath(archiveEntries(tar, 'none'), part.path, () => undefined)) {
        if (entry.type === 'directory') {
          const key = entry.path.replace(/\/+$/, '');
          if (directories.has(key)) continue;
          directories.add(key);
        }
        yield entry;
      }
    }
  }
  const { stream, summary } = packArchive(entries(), { ordered: false });
  summary.catch((error: unknown) => stream.destroy(error as Error));
  return { tar: stream, files };
}

/** The archive's entries moved under `base` (its directories first), counting files. */
async function* underPath(
  entries: AsyncIterable<SourceEntry>,
  base: string,
  onFile: () => void,
): AsyncIterable<SourceEntry> {
  const segments = base.split('/').filter(Boolean);
  for (let index = 1; index <= segments.length; index += 1) {
    yield { path: segments.slice(0, index).join('/'), type: 'directory', mode: 0o755, size: 0 };
  }
  for await (const entry of entries) {
    if (entry.type === 'file') onFile();
    yield segments.length === 0 ? entry : { ...entry, path: posix.join(base, entry.path) };
  }
}

function stepOwner(): { uid: number; gid: number } {
  const [uid, gid] = stepUser.split(':').map(Number) as [number, number];
  return { uid, gid };
}

function roundTimings<T extends Record<string, number>>(timings: T): T {
  return Object.fromEntries(Object.entries(timings).map(([key, ms]) => [key, Math.max(0, Math.round(ms))])) as T;
}
