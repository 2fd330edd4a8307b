/**
 * Shared source trees for overlay workspaces (docs/triggers.md, "Overlay workspaces"): the verified source tree of a
 * run is extracted **once per worker host** (per archive digest and checkout path) into a read-only lower directory,
 * and every job's `/workspace` is an overlay of it (activities/workspace-overlay.ts), so no job creates the files
 * itself (docs/benchmarks.md, "Source checkout: overlay workspaces").
 *
 * Layout under the trees directory (root-owned, 0700, so the step user on the host cannot reach a tree):
 * - `lower/<key>/` — a finished tree, owned by the step user; only ever renamed into place whole, after the archive's
 *   digest, size and every entry passed their checks, so nothing half-written or unchecked is ever visible;
 * - `lower/.staging-<key>-<pid>-<random>/` — a tree being extracted; `lower/.trash-…` — one being removed;
 * - `used/<key>` — touched whenever a job takes the tree: the sweep keeps a tree for a while after its last use;
 * - `jobs/<volume>/{upper,work}` — each job's private writable layer (workspace-overlay.ts).
 *
 * Lifecycle: a tree is in use while a workspace volume labelled with its key exists (Docker is the record, so a
 * crashed worker leaves nothing the sweep cannot judge). `sweep` removes trees no volume uses and nobody took for
 * `keepUnusedMs`, job layers whose volume is gone, and staging or trash directories a crash left.
 */
import { createHash, randomUUID } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { volumeLabels } from '../volume-labels';

/** The volume label naming the source tree a workspace overlays. */
export const overlayLowerLabel = 'conveyor.overlay-lower';

/** How long an unused tree is kept by default: jobs of the same commit that start soon after reuse it. */
export const defaultKeepUnusedMs = 10 * 60_000;

/** Tar processes per tree by default. */
export const defaultExtractWays = 4;

/** What a sweep removed. */
export interface TreeSweep {
  trees: number;
  jobs: number;
}

/** The shared source trees of one worker host, kept under `dir`. */
export class SourceTrees {
  private readonly building = new Map<string, Promise<void>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private prepared: Promise<void> | undefined;

  constructor(
    /** The trees directory (on the Docker host, a filesystem overlayfs accepts as upper layer). */
    readonly dir: string,
    /** Milliseconds an unused tree is kept after it was last taken. */
    readonly keepUnusedMs: number = defaultKeepUnusedMs,
    /**
     * How many `tar` processes extract a tree at once (activities/artifacts/tar-split.ts): creating a file waits on
     * the filesystem, so one process alone is slower than a few sharing the entries (docs/benchmarks.md).
     */
    readonly extractWays: number = defaultExtractWays,
  ) {}

  /** A tree's key: the archive's hex digest, plus a hash of the checkout path when it is not the root. */
  static key(hexDigest: string, checkoutPath: string): string {
    if (checkoutPath === '') return hexDigest;
    return `${hexDigest}.${createHash('sha256').update(checkoutPath).digest('hex').slice(0, 16)}`;
  }

  /** The directory of a finished tree. */
  treeDir(key: string): string {
    return join(this.dir, 'lower', key);
  }

  /** The directory of a workspace volume's writable layer. */
  jobDir(volume: string): string {
    return join(this.dir, 'jobs', volume);
  }

  /**
   * The finished tree `key`, built by `build(staging)` when this host has none (jobs of this process wanting it at
   * once share one build; another process building it too is harmless: the first rename wins). Marks it used now.
   * Returns whether this caller waited for a build.
   */
  async take(key: string, build: (staging: string) => Promise<void>): Promise<{ dir: string; built: boolean }> {
    await this.prepare();
    // Marked before looking: a sweep that saw an old mark is caught by the caller's `stillThere` check.
    await this.markUsed(key);
    const dir = this.treeDir(key);
    if (await isDirectory(dir)) return { dir, built: false };
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.build(key, build).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    await pending;
    return { dir, built: true };
  }

  /** Whether the tree is (still) in place: a sweep in another process may have removed it meanwhile. */
  stillThere(key: string): Promise<boolean> {
    return isDirectory(this.treeDir(key));
  }

  /** Removes one workspace's writable layer (idempotent). */
  async releaseJob(volume: string): Promise<void> {
    await rm(this.jobDir(volume), { recursive: true, force: true });
  }

  /**
   * Removes what nobody uses: trees no workspace volume overlays and nobody took for `olderThanMs` (default
   * `keepUnusedMs`), writable layers whose volume is gone, staging and trash directories left by a crash.
   */
  async sweep(docker: Docker, olderThanMs = this.keepUnusedMs): Promise<TreeSweep> {
    const result: TreeSweep = { trees: 0, jobs: 0 };
    const before = Date.now() - olderThanMs;
    const old = async (path: string) => ((await stat(path).catch(() => undefined))?.mtimeMs ?? 0) <= before;
    for (const volume of await readdir(join(this.dir, 'jobs')).catch(() => [])) {
      if ((await volumeExists(docker, volume)) || !(await old(this.jobDir(volume)))) continue;
      await this.releaseJob(volume);
      result.jobs += 1;
    }
    const lower = join(this.dir, 'lower');
    let used = await usedKeys(docker);
    for (const name of await readdir(lower).catch(() => [])) {
      const path = join(lower, name);
      if (name.startsWith('.')) {
        // A staging directory of a live build is younger than any sensible keepUnusedMs.
        if (await old(path)) await rm(path, { recursive: true, force: true });
        continue;
      }
      const mark = join(this.dir, 'used', name);
      if (used.has(name) || !(await old(mark))) continue;
      // Out of the way first (atomic), then the volumes asked again: a job that took the tree meanwhile keeps it.
      const trash = join(lower, `.trash-${name}-${randomUUID().slice(0, 8)}`);
      if (
        !(await rename(path, trash).then(
          () => true,
          () => false,
        ))
      )
        continue;
      used = await usedKeys(docker);
      if (
        used.has(name) &&
        (await rename(trash, path).then(
          () => true,
          () => false,
        ))
      )
        continue;
      await rm(trash, { recursive: true, force: true });
      await rm(mark, { force: true });
      result.trees += 1;
    }
    for (const name of await readdir(join(this.dir, 'used')).catch(() => [])) {
      if (!(await isDirectory(this.treeDir(name))) && (await old(join(this.dir, 'used', name)))) {
        await rm(join(this.dir, 'used', name), { force: true });
      }
    }
    return result;
  }

  /**
   * Sweeps again `keepUnusedMs` after the last take (a timer that does not keep the process alive), so a worker that
   * goes idle still removes its trees.
   */
  sweepLater(docker: Docker): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      void this.sweep(docker)
        .then(async () => {
          const left = await readdir(join(this.dir, 'lower')).catch(() => []);
          if (left.length > 0) this.sweepLater(docker);
        })
        .catch(() => undefined);
    }, this.keepUnusedMs + 1000);
    this.sweepTimer.unref();
  }

  private async build(key: string, build: (staging: string) => Promise<void>): Promise<void> {
    const staging = join(this.dir, 'lower', `.staging-${key}-${process.pid}-${randomUUID().slice(0, 8)}`);
    try {
      await build(staging);
      await rename(staging, this.treeDir(key)).catch(async (error: NodeJS.ErrnoException) => {
        // Another process finished the same tree first: theirs is the same content.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        await rm(staging, { recursive: true, force: true });
      });
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  private async markUsed(key: string): Promise<void> {
    const mark = join(this.dir, 'used', key);
    const now = new Date();
    await utimes(mark, now, now).catch(() => writeFile(mark, ''));
  }

  /** Creates the layout, root-only (once per instance; again after a failure). */
  prepare(): Promise<void> {
    this.prepared ??= this.prepareLayout().catch((error: unknown) => {
      this.prepared = undefined;
      throw error;
    });
    return this.prepared;
  }

  private async prepareLayout(): Promise<void> {
    for (const sub of ['', 'lower', 'used', 'jobs']) {
      const path = join(this.dir, sub);
      await mkdir(path, { recursive: true, mode: 0o700 });
      // Only root (the worker and the engine) passes: no host user can reach a tree, a layer or a staging directory.
      if (sub === '' || sub === 'lower' || sub === 'jobs') {
        const info = await lstat(path);
        if ((info.mode & 0o777) !== 0o700) await chmod(path, 0o700);
        if (info.uid !== 0) await lchown(path, 0, 0);
      }
    }
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function volumeExists(docker: Docker, name: string): Promise<boolean> {
  // When the engine cannot say, the layer is kept.
  return (await volumeLabels(docker, name).catch(() => ({}))) !== undefined;
}

async function usedKeys(docker: Docker): Promise<Set<string>> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [overlayLowerLabel] } });
  return new Set((Volumes ?? []).map((volume) => volume.Labels?.[overlayLowerLabel] ?? '').filter(Boolean));
}
