/**
 * The artifact activities (DESIGN.md §6, docs/artifacts.md), on the Docker task queue beside the steps:
 *
 * - `uploadArtifacts`: after a job's steps, packs each declared artifact from the job's workspace (through the
 *   Docker API) deterministically into the store, records it, and gives each job that will consume it a reference.
 * - `downloadArtifacts`: before a job's first step, fetches and verifies every input (size, SHA-256, a retry from
 *   the store on a mismatch), checks every entry of every archive, and only then extracts them into the workspace.
 * - `verifyArtifact`: re-hashes one stored object (a deployment verifies its input before starting, ART-047).
 * - `releaseReferences`: drops the references a run's jobs hold.
 *
 * Each heartbeats what it has created (temporaries) and finished, so an attempt retried after a worker crash
 * removes its predecessor's leftovers and does not redo finished artifacts.
 */
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import type { RetentionPolicy } from '../../pipeline/retention-policy';
import { ensureWorkspace } from '../docker-resources';
import { stepUser } from '../docker-step';
import { wrapDockerError } from '../docker-errors';
import { toApplicationFailure } from '../errors';
import {
  ContentDigestMismatchError,
  ContentSizeMismatchError,
  formatDigest,
  parseDigest,
  type ArtifactStore,
  type Temporary,
} from '../store/store';
import type { SourceEntry } from './archive-entry';
import { archiveEntries, inspectArchive } from './archive-read';
import {
  ArtifactCatalog,
  artifactRecordKey,
  jobHolder,
  type ArtifactCompression,
  type ArtifactRecord,
  type ArtifactSummary,
} from './catalog';
import {
  ArtifactDigestMismatchError,
  ArtifactMissingError,
  classifyArtifactError,
  type ArtifactContext,
} from './errors';
import { QuotaGuard } from './quota';
import { ArtifactSelector } from './select';
import { sortEntries } from './sorted-entries';
import { OutOfOrderError } from './tar-pack';
import { fetchVerified, storeArchive, verifyContent, type StoredArchive, type VerifiedContent } from './transfer';
import { directoryEntries } from './directory-source';
import { WorkspaceExtraction } from './workspace-extract';
import {
  extractIntoWorkspace,
  localWorkspaceDir,
  readableDirectly,
  withWorkspaceContainer,
  workspaceEntries,
  workspaceExists,
  workspaceRef,
} from './workspace-io';

/** What the artifact activities are wired to (STYLE.md 5). */
export interface ArtifactActivityDeps {
  store: ArtifactStore;
  docker: Docker;
  /** Local scratch directory for spools (the data dir's `tmp/`). */
  spoolDir: string;
  /** The owning cluster's label value, set on the housekeeping containers. */
  cluster?: string;
  /** Store quota in bytes (default 100 GB). */
  quotaBytes?: number;
  /** How new artifacts are stored (default none). */
  compression?: ArtifactCompression;
  /** Heartbeat interval in ms (default 2000). */
  heartbeatMs?: number;
}

/** One artifact a job declares, as the upload needs it. */
export interface ArtifactOutput {
  name: string;
  /** Workspace-relative paths and globs. */
  paths: string[];
  /** An optional artifact may match nothing; then nothing is stored for it. */
  optional?: boolean;
}

/** Input of `uploadArtifacts`. */
export interface UploadArtifactsInput {
  runId: string;
  pipeline: string;
  job: string;
  jobAttempt?: number;
  artifacts: ArtifactOutput[];
  /** Jobs that will download these artifacts: each holds a reference from now until it finishes. */
  consumers?: string[];
  /** The pipeline's own retention policies, kept with each record. */
  retention?: RetentionPolicy[];
}

/** What a job's status records about one of its artifacts: the summary, and how to read it. */
export interface StoredArtifact extends ArtifactSummary {
  /** Present when not `none`. */
  compression?: ArtifactCompression;
}

/** An artifact in a job's state: where it came from too (a re-run carries it over from an earlier run). */
export interface JobArtifact extends StoredArtifact {
  /** The run whose job produced it. */
  run: string;
}

/** One uploaded artifact, as the run's status shows it, plus what the upload cost. */
export interface UploadedArtifact extends JobArtifact {
  /** Content bytes written to the store: 0 when identical content was already there. */
  bytesWritten: number;
  deduplicated: boolean;
}

/** Result of `uploadArtifacts`: by name; an optional artifact that matched nothing is absent. */
export interface UploadArtifactsResult {
  artifacts: Record<string, UploadedArtifact>;
}

/** One input of a job: an artifact of a job it depends on (possibly of an earlier run, after a re-run). */
export interface ArtifactInput extends StoredArtifact {
  name: string;
  /** The job that produced it. */
  producer: string;
  /** The run whose job produced it (differs from the consumer's run when a re-run reused the producer). */
  producerRun: string;
  pipeline: string;
}

/** Input of `downloadArtifacts`. */
export interface DownloadArtifactsInput {
  runId: string;
  job: string;
  jobAttempt?: number;
  artifacts: ArtifactInput[];
  /** The job's `resources.disk`, when it creates the workspace (docs/runs.md, "Limits"). */
  diskBytes?: number;
}

/** Result of `downloadArtifacts`. */
export interface DownloadArtifactsResult {
  artifacts: number;
  files: number;
  bytes: number;
  /** `tar`: the system tar into the local workspace; `direct`: entry by entry through the volume's mountpoint;
   * `archive`: through Docker's archive API (docs/artifacts.md#workspace-io). Absent when there was no input. */
  via?: 'tar' | 'direct' | 'archive';
}

/**
 * Input of `verifyArtifact`: a digest (`sha256:…`), the size it should have when known, and the artifact's name and
 * producer job to name in a failure.
 */
export interface VerifyArtifactInput {
  digest: string;
  size?: number;
  name?: string;
  producer?: string;
}

/** Result of `verifyArtifact` (it throws `ArtifactDigestMismatchError` / `ArtifactMissingError` otherwise). */
export interface VerifyArtifactResult {
  digest: string;
  size: number;
  verifiedAt: string;
}

/** Input of `releaseReferences`: the jobs of a run whose references to these digests end. */
export interface ReleaseReferencesInput {
  runId: string;
  /** `sha256:` digests. */
  digests: string[];
  /** Only this job's references (default: every job of the run). */
  jobs?: string[];
}

interface UploadHeartbeat {
  temporaries: Temporary[];
  done: Record<string, UploadedArtifact | null>;
}

/** Creates the artifact activities (STYLE.md 5). */
export function createArtifactActivities(deps: ArtifactActivityDeps) {
  const { store, docker, spoolDir } = deps;
  const catalog = new ArtifactCatalog(store);
  const quota = new QuotaGuard(store, deps.quotaBytes ?? 100 * 1000 ** 3);
  const heartbeatMs = deps.heartbeatMs ?? 2000;

  async function uploadArtifacts(input: UploadArtifactsInput): Promise<UploadArtifactsResult> {
    const ctx = Context.current();
    const previous = ctx.info.heartbeatDetails as UploadHeartbeat | undefined;
    const state: UploadHeartbeat = { temporaries: [], done: { ...previous?.done } };
    // A crashed attempt's scratch files and unfinished uploads go first.
    for (const temporary of previous?.temporaries ?? []) await store.removeTemporary(temporary).catch(() => undefined);
    // No heartbeat until there is something to report: Temporal sends the first one at once and throttles the
    // next, so the first to go out should carry the first temporary (a crash right after it leaves no orphan).
    const beat = setInterval(() => ctx.heartbeat(state), heartbeatMs);
    const ref = workspaceRef(input, deps.cluster);
    try {
      const pending = input.artifacts.filter((artifact) => !(artifact.name in state.done));
      if (pending.length > 0) {
        // At the critical level nothing new is accepted: say so before reading the workspace.
        await quota.admit(0).catch((error: unknown) => {
          throw classifyArtifactError(error, { artifact: pending[0]!.name, producer: input.job });
        });
        if (!(await workspaceExists(docker, ref))) {
          throw new ArtifactMissingError(
            `the workspace of job '${input.job}' no longer exists, so its artifacts cannot be packed`,
            { job: input.job },
          );
        }
        const upload = async (artifact: ArtifactOutput, source: (bases: string[]) => AsyncIterable<SourceEntry>) => {
          try {
            const stored = await uploadOne(input, artifact, state, source);
            state.done[artifact.name] = stored ? toUploaded(stored, input.runId) : null;
          } catch (error) {
            throw classifyArtifactError(error, { artifact: artifact.name, producer: input.job });
          }
          ctx.heartbeat(state);
        };
        // Read through the volume's mountpoint when the engine is local (docs/artifacts.md#workspace-io), through
        // the archive API otherwise, or when a path would lead through a symlink (Docker resolves it in the
        // container; read directly it could leave the workspace).
        const dir = await localWorkspaceDir(docker, ref);
        const throughArchive: ArtifactOutput[] = [];
        for (const artifact of pending) {
          if (dir && (await readableDirectly(dir, artifactBases(artifact, input.job)))) {
            await upload(artifact, (bases) => directoryEntries(dir, bases));
          } else {
            throughArchive.push(artifact);
          }
        }
        if (throughArchive.length > 0) {
          await withWorkspaceContainer(docker, ref, async (container) => {
            for (const artifact of throughArchive) {
              await upload(artifact, (bases) => workspaceEntries(container, bases));
            }
          });
        }
      }
      const artifacts: Record<string, UploadedArtifact> = {};
      for (const artifact of input.artifacts) {
        const done = state.done[artifact.name];
        if (done) artifacts[artifact.name] = done;
      }
      return { artifacts };
    } catch (error) {
      throw toApplicationFailure(error);
    } finally {
      clearInterval(beat);
    }
  }

  /** Packs one artifact into the store and records it; `undefined` for an optional artifact that matched nothing. */
  async function uploadOne(
    input: UploadArtifactsInput,
    artifact: ArtifactOutput,
    state: UploadHeartbeat,
    source: (bases: string[]) => AsyncIterable<SourceEntry>,
  ): Promise<StoredArchive | undefined> {
    const ctx = Context.current();
    const identity = { pipeline: input.pipeline, run: input.runId, job: input.job, name: artifact.name };
    const attempt = async (selector: ArtifactSelector, entries: AsyncIterable<SourceEntry>) =>
      storeArchive(store, selector.select(entries), {
        compression: deps.compression,
        put: {
          signal: ctx.cancellationSignal,
          onTemporary: (temporary) => {
            state.temporaries.push(temporary);
            ctx.heartbeat(state);
          },
          onProgress: () => ctx.heartbeat(state),
          onDigest: async (digest) => {
            // The whole workspace selection has been read by now: a pattern that matched nothing fails the job
            // before anything is published.
            const unmatched = selector.unmatched();
            if (unmatched.length === artifact.paths.length && artifact.optional) throw new EmptyOptionalArtifact();
            if (unmatched.length > 0 && !artifact.optional) {
              throw new ArtifactMissingError(
                `artifact '${artifact.name}' of job '${input.job}': '${unmatched[0]}' matched no file in /workspace ` +
                  `(check the path, or mark the artifact optional: true)`,
                { artifact: artifact.name, pattern: unmatched[0], producer: input.job },
              );
            }
            await catalog.markUse(digest, identity);
            const since = new Date().toISOString();
            for (const consumer of input.consumers ?? []) {
              await catalog.addReference(digest, jobHolder(input.runId, consumer), {
                kind: 'job',
                run: input.runId,
                job: consumer,
                since,
              });
            }
          },
          beforePublish: (_digest, size) => quota.admit(size),
        },
      });
    let stored: StoredArchive;
    try {
      try {
        const selector = new ArtifactSelector(artifact.paths);
        stored = await attempt(selector, source(selector.bases()));
      } catch (error) {
        if (!(error instanceof OutOfOrderError)) throw error;
        // This engine does not list directories in name order: sort the entries locally and pack again.
        const selector = new ArtifactSelector(artifact.paths);
        const sorted = await sortEntries(source(selector.bases()), spoolDir);
        try {
          stored = await attempt(selector, sorted.entries);
        } finally {
          await sorted.release();
        }
      }
    } catch (error) {
      if (error instanceof EmptyOptionalArtifact) return undefined;
      throw error;
    } finally {
      state.temporaries = [];
    }
    const now = new Date().toISOString();
    const record: ArtifactRecord = {
      version: 1,
      ...identity,
      digest: formatDigest(stored.digest),
      size: stored.size,
      files: stored.contents.files,
      compression: stored.compression,
      mediaType: stored.compression === 'gzip' ? 'application/gzip' : 'application/x-tar',
      paths: artifact.paths,
      createdAt: now,
      lastAccessedAt: now,
      producer: { run: input.runId, job: input.job, jobAttempt: input.jobAttempt ?? 1 },
    };
    if (input.retention?.length) record.retention = input.retention;
    await catalog.putRecord(record);
    return stored;
  }

  async function downloadArtifacts(input: DownloadArtifactsInput): Promise<DownloadArtifactsResult> {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), heartbeatMs);
    ctx.heartbeat();
    const verified: { input: ArtifactInput; content: VerifiedContent }[] = [];
    const result: DownloadArtifactsResult = { artifacts: 0, files: 0, bytes: 0 };
    try {
      const ref = workspaceRef(input, deps.cluster);
      await ensureWorkspace(docker, ref).catch((error: unknown) => {
        throw wrapDockerError(error, `preparing the workspace of job '${input.job}'`);
      });
      // Claim every input first (ART-077): retention re-checks references right before it deletes anything.
      const since = new Date().toISOString();
      for (const artifact of input.artifacts) {
        await catalog.addReference(parseDigest(artifact.digest), jobHolder(input.runId, input.job), {
          kind: 'job',
          run: input.runId,
          job: input.job,
          since,
        });
      }
      const [uid, gid] = stepUser.split(':').map(Number) as [number, number];
      // A local workspace is checked against what is in it already, and extracted by the system tar when it can be
      // (docs/artifacts.md#workspace-io); through the archive API only the entries themselves are checked.
      const dir = await localWorkspaceDir(docker, ref);
      const local = dir === undefined ? undefined : await WorkspaceExtraction.start(dir, { uid, gid });
      // Verify everything before extracting anything, so a bad input leaves the workspace untouched.
      for (const artifact of input.artifacts) {
        const context = { artifact: artifact.name, producer: artifact.producer, digest: artifact.digest };
        try {
          const content = await fetchWithOneRetry(artifact);
          verified.push({ input: artifact, content });
          const compression = artifact.compression ?? 'none';
          const contents = local
            ? await local.check(content.open(), compression)
            : await inspectArchive(content.open(), compression);
          result.files += contents.files;
          result.bytes += content.size;
          result.artifacts += 1;
        } catch (error) {
          throw classifyArtifactError(error, context);
        }
      }
      for (const { input: artifact, content } of verified) {
        const compression = artifact.compression ?? 'none';
        const extracted =
          local?.way === 'tar'
            ? local.extract(content, compression, {
                signal: ctx.cancellationSignal,
                onProgress: () => ctx.heartbeat(),
              })
            : extractIntoWorkspace(docker, ref, archiveEntries(content.open(), compression), { uid, gid });
        result.via = await extracted.then(
          (way) => way ?? 'tar',
          (error: unknown) => {
            throw classifyArtifactError(error, { artifact: artifact.name, producer: artifact.producer });
          },
        );
        ctx.heartbeat();
      }
      for (const artifact of input.artifacts) {
        const digest = parseDigest(artifact.digest);
        await catalog.recordConsumer(digest, input.runId, input.job);
        const key = {
          pipeline: artifact.pipeline,
          run: artifact.producerRun,
          job: artifact.producer,
          name: artifact.name,
        };
        const record = await catalog.findRecord(key.pipeline, key.run, key.job, key.name);
        if (record) await catalog.touch(artifactRecordKey(key.pipeline, key.run, key.job, key.name), record);
      }
      return result;
    } catch (error) {
      throw toApplicationFailure(error);
    } finally {
      clearInterval(beat);
      for (const { content } of verified) await content.release();
    }
  }

  /** Fetches and verifies an input; a digest mismatch is retried once from the store (ART-058, ⚠C11). */
  async function fetchWithOneRetry(artifact: ArtifactInput): Promise<VerifiedContent> {
    const ctx = Context.current();
    const options = {
      expectedSize: artifact.size,
      spoolDir,
      onProgress: () => ctx.heartbeat(),
      signal: ctx.cancellationSignal,
    };
    const digest = parseDigest(artifact.digest);
    try {
      return await fetchVerified(store, digest, options);
    } catch (error) {
      if (!(error instanceof ContentDigestMismatchError)) throw error;
      ctx.log.warn(`artifact '${artifact.name}' failed verification (${error.message}); fetching it again`);
      return await fetchVerified(store, digest, options);
    }
  }

  async function verifyArtifact(input: VerifyArtifactInput): Promise<VerifyArtifactResult> {
    const ctx = Context.current();
    const named = input.name === undefined ? {} : { name: input.name, producer: input.producer };
    const check = () =>
      verifyStoredArtifact(store, input.digest, input.size, { ...named, onProgress: () => ctx.heartbeat() });
    try {
      // Like a download, a mismatch is checked once more from the store before it fails the job.
      const result = await check().catch((error: unknown) => {
        if (!(error instanceof ArtifactDigestMismatchError)) throw error;
        ctx.log.warn(`${error.message}; verifying it again`);
        return check();
      });
      return { digest: formatDigest(result.digest), size: result.size, verifiedAt: new Date().toISOString() };
    } catch (error) {
      throw toApplicationFailure(error);
    }
  }

  async function releaseReferences(input: ReleaseReferencesInput): Promise<{ released: number }> {
    let released = 0;
    for (const digest of new Set(input.digests.map(parseDigest))) {
      for (const { holder, reference } of await catalog.references(digest)) {
        if (reference.kind !== 'job' || reference.run !== input.runId) continue;
        if (input.jobs && !input.jobs.includes(reference.job)) continue;
        if (await catalog.removeReference(digest, holder)) released += 1;
      }
    }
    return { released };
  }

  return { uploadArtifacts, downloadArtifacts, verifyArtifact, releaseReferences };
}

/**
 * Verifies a stored artifact by re-hashing it (ART-047: a deployment verifies its input before it starts). Throws
 * `ArtifactMissingError` or `ArtifactDigestMismatchError` (also when `size` is given and differs).
 */
export async function verifyStoredArtifact(
  store: ArtifactStore,
  digest: string,
  size?: number,
  options: { name?: string; producer?: string; onProgress?: (bytes: number) => void } = {},
): Promise<{ digest: string; size: number }> {
  const hex = parseDigest(digest);
  const context: ArtifactContext = { artifact: options.name ?? formatDigest(hex), digest: formatDigest(hex) };
  if (options.producer !== undefined) context.producer = options.producer;
  const check = await verifyContent(store, hex, options.onProgress);
  if (check.status === 'missing') {
    const named =
      options.name === undefined ? '' : ` '${options.name}'${options.producer ? ` of job '${options.producer}'` : ''}`;
    throw new ArtifactMissingError(`artifact${named} ${formatDigest(hex)} is not in the store (${store.location})`, {
      ...context,
    });
  }
  if (check.status === 'corrupted') {
    throw classifyArtifactError(new ContentDigestMismatchError(hex, check.actual), context);
  }
  if (size !== undefined && check.size !== size) {
    throw classifyArtifactError(new ContentSizeMismatchError(hex, hex, size, check.size), context);
  }
  return { digest: hex, size: check.size };
}

/** The workspace paths an artifact reads (a bad pattern fails as the upload would). */
function artifactBases(artifact: ArtifactOutput, job: string): string[] {
  try {
    return new ArtifactSelector(artifact.paths).bases();
  } catch (error) {
    throw classifyArtifactError(error, { artifact: artifact.name, producer: job });
  }
}

/** Thrown inside an upload when an optional artifact matched nothing: nothing is stored for it. */
class EmptyOptionalArtifact extends Error {}

function toUploaded(stored: StoredArchive, run: string): UploadedArtifact {
  const uploaded: UploadedArtifact = {
    run,
    digest: formatDigest(stored.digest),
    size: stored.size,
    files: stored.contents.files,
    bytesWritten: stored.bytesWritten,
    deduplicated: stored.deduplicated,
  };
  if (stored.compression !== 'none') uploaded.compression = stored.compression;
  return uploaded;
}
