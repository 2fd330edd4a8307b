/**
 * Checking a run's source out into an overlay workspace (docs/triggers.md, "Overlay workspaces"): the job's volume
 * overlays the host's shared tree of the archive (source-trees.ts), built once per host in a single pass — the
 * archive is fetched and its digest and size verified, then its entries are checked while the system tar extracts
 * it, as the step user, into a staging directory nobody can see; only when both succeeded is the tree renamed into
 * place. A job then costs two directories and a volume, not ten thousand files.
 */
import { lchown, mkdir } from 'node:fs/promises';
import type Docker from 'dockerode';
import { inspectArchive } from '../artifacts/archive-read';
import { extractWithSystemTar } from '../artifacts/system-tar';
import { fetchVerified } from '../artifacts/transfer';
import { volumeLabels } from '../volume-labels';
import { labels, ownerLabels, workspaceVolumeName } from '../names';
import { parseDigest, type ArtifactStore } from '../store/store';
import { createOverlayWorkspace, removeOverlayWorkspace } from '../workspace-overlay';
import type { SourceArchive } from '../../pipeline/source';
import { overlayLowerLabel, SourceTrees } from './source-trees';

/** Where the time of an overlay checkout went, in milliseconds (docs/benchmarks.md). */
export interface OverlayCheckoutTimings {
  /** The writable layer and the volume. */
  workspaceMs: number;
  /** Fetching and verifying the archive (only the job that built the tree). */
  fetchMs: number;
  /** Checking every entry and extracting the tree, in one pass (only the job that built the tree). */
  extractMs: number;
  /** Waiting for another job of this worker building the tree. */
  waitMs: number;
}

/** What an overlay checkout needs. */
export interface OverlayCheckoutRequest {
  docker: Docker;
  store: ArtifactStore;
  trees: SourceTrees;
  spoolDir: string;
  runId: string;
  job: string;
  jobAttempt: number;
  cluster?: string;
  archive: SourceArchive;
  /** Sub-path of /workspace ('' for /workspace itself). */
  path: string;
  owner: { uid: number; gid: number };
  signal: AbortSignal;
  onProgress: () => void;
}

/**
 * Gives the job an overlay workspace of the run's source tree; undefined (having changed nothing) when its workspace
 * already exists as something else, which the caller then fills the usual way.
 */
export async function checkoutIntoOverlay(
  request: OverlayCheckoutRequest,
): Promise<OverlayCheckoutTimings | undefined> {
  const { docker, trees } = request;
  const name = workspaceVolumeName(request.runId, request.job, request.jobAttempt);
  const key = SourceTrees.key(parseDigest(request.archive.digest), request.path);
  const existing = await existingTreeKey(docker, name);
  if (existing === null) return undefined;
  const timings: OverlayCheckoutTimings = { workspaceMs: 0, fetchMs: 0, extractMs: 0, waitMs: 0 };
  const build = async (staging: string) => {
    const started = performance.now();
    const phases = await buildTree(staging, request);
    Object.assign(timings, phases);
    timings.waitMs -= performance.now() - started;
  };
  // Jobs waiting for another job's build still heartbeat.
  const beating = setInterval(request.onProgress, 2000);
  try {
    await trees.prepare();
    // The volume only names the tree's place (the engine mounts it when a step starts), so it is made while the
    // tree is being built; labelled with the tree, it also keeps a sweep from taking the tree meanwhile.
    const creating = async () => {
      if (existing !== undefined) return;
      const started = performance.now();
      await createOverlayWorkspace(docker, trees, {
        name,
        lowerDir: trees.treeDir(key),
        treeKey: key,
        labels: { ...ownerLabels(request.runId, request.cluster), [labels.job]: request.job },
        owner: request.owner,
      });
      timings.workspaceMs = performance.now() - started;
    };
    const taking = async () => {
      const started = performance.now();
      await trees.take(key, build);
      timings.waitMs += performance.now() - started;
    };
    const [created, taken] = await Promise.allSettled([creating(), taking()]);
    if (taken.status === 'rejected') {
      // No tree (an unsafe or corrupted archive): no workspace either.
      if (existing === undefined && created.status === 'fulfilled') await removeOverlayWorkspace(docker, trees, name);
      throw taken.reason;
    }
    if (created.status === 'rejected') throw created.reason;
    // A sweep in another process that removed the tree before the volume existed: build it again, same place.
    if (!(await trees.stillThere(key))) await trees.take(key, build);
  } finally {
    clearInterval(beating);
  }
  trees.sweepLater(docker);
  return timings;
}

/** The tree key of an existing overlay workspace, undefined when there is none, null when it is another volume. */
async function existingTreeKey(docker: Docker, name: string): Promise<string | undefined | null> {
  const labels = await volumeLabels(docker, name);
  return labels && (labels[overlayLowerLabel] ?? null);
}

/**
 * Fetches and verifies the archive, then checks its entries and extracts it into `staging` at once. The extraction
 * is safe to start before the check has finished: it runs as the step user, from inside `staging`, whose parent only
 * root may enter (so a `..` leads nowhere), the system tar strips leading slashes and makes placeholders for links
 * that point outside, and `staging` is removed unless both the check and the extraction succeeded.
 */
async function buildTree(
  staging: string,
  request: OverlayCheckoutRequest,
): Promise<{ fetchMs: number; extractMs: number }> {
  const started = performance.now();
  await mkdir(staging, { mode: 0o755 });
  await lchown(staging, request.owner.uid, request.owner.gid);
  const content = await fetchVerified(request.store, parseDigest(request.archive.digest), {
    expectedSize: request.archive.size,
    spoolDir: request.spoolDir,
    onProgress: request.onProgress,
    signal: request.signal,
  });
  const fetched = performance.now();
  try {
    const stop = new AbortController();
    const onAbort = () => stop.abort(request.signal.reason);
    request.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const [checked, extracted] = await Promise.allSettled([
        inspectArchive(content.open(), 'none').catch((error: unknown) => {
          stop.abort(error);
          throw error;
        }),
        extractWithSystemTar(staging, request.path, content.open, request.owner, {
          signal: stop.signal,
          onProgress: request.onProgress,
          ways: request.trees.extractWays,
        }),
      ]);
      // The check's verdict first: an unsafe entry is the reason, not the extraction it stopped.
      if (checked.status === 'rejected') throw checked.reason;
      if (extracted.status === 'rejected') throw extracted.reason;
      if (!extracted.value) throw new Error('the system tar could not extract the source tree');
    } finally {
      request.signal.removeEventListener('abort', onAbort);
    }
  } finally {
    await content.release();
  }
  return { fetchMs: fetched - started, extractMs: performance.now() - fetched };
}
