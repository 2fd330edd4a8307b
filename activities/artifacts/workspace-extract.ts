/**
 * Extracting verified artifacts into a job's workspace directory (docs/artifacts.md#workspace-io) with the system
 * tar — the way source checkouts are extracted (system-tar.ts) — instead of a handful of asynchronous file system
 * calls per entry from Node, which made a 10,000-file artifact take seconds (docs/benchmarks.md, "Artifacts:
 * 10,000 files").
 *
 * Unlike a source checkout, artifacts land in a workspace that may hold files already (the checkout, another
 * artifact), where a symlink could redirect a write. So before anything is extracted, every entry of every archive
 * is checked here against the workspace as it will be at that point (`check`, during the header-only inspection
 * that follows verification): each directory leading to an entry, and the entry's own path, is looked at with
 * `lstat` when it was there before the download (inside a directory the download creates nothing can be in the
 * way, so a fresh tree costs no system call), and remembered with what the entries before it make of it. Refused,
 * as the entry-by-entry writer refuses them, with the workspace untouched: a path leading through anything but a
 * directory (a symlink, a file), a directory where a file or link is, a file or link where a directory is. A file
 * or link over a file or link replaces it (tar unlinks it first; it never writes through it).
 *
 * The system tar then runs as the step user (it can write nowhere the step user could not), one archive after
 * another, so a later artifact's file replaces an earlier one's, as before. It is used only when every directory
 * it writes into is the step user's; otherwise (and without a system tar, or with `CONVEYOR_WORKSPACE_IO=direct`)
 * the entries are written one by one after the same checks.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { inspectArchive, type ArchiveContents } from './archive-read';
import type { ArtifactCompression } from './catalog';
import { UnsafeEntryError, type SafeEntry } from './path-safety';
import { runSystemTar, systemTarUsable } from './system-tar';
import { chunkSize } from '../store/scratch';
import type { VerifiedContent } from './transfer';

/** A path of the workspace as the extraction will have it: a directory that was there, one it creates, or not one. */
type PathState = 'old-directory' | 'new-directory' | 'other' | 'absent';

/** Owner of what is extracted: the step user. */
export interface Owner {
  uid: number;
  gid: number;
}

/** The checks and the extraction of a set of verified archives into one workspace directory. */
export class WorkspaceExtraction {
  private readonly known = new Map<string, PathState>();

  private constructor(
    /** The workspace's directory on this host. */
    readonly dir: string,
    private readonly owner: Owner,
    /** Whether the system tar extracts (false: the caller writes the entries itself). */
    private tar: boolean,
  ) {}

  /** Starts checking archives for extraction into `dir`, which exists. */
  static async start(dir: string, owner: Owner): Promise<WorkspaceExtraction> {
    const extraction = new WorkspaceExtraction(dir, owner, await systemTarUsable(owner));
    const root = await lstat(dir);
    // An empty workspace: nothing of a job's can be in the way anywhere below it.
    const empty = (await readdir(dir)).length === 0;
    extraction.known.set('', empty ? 'new-directory' : 'old-directory');
    if (root.uid !== owner.uid) extraction.tar = false;
    return extraction;
  }

  /** `tar` when the system tar will extract, `direct` when the caller must write the entries one by one. */
  get way(): 'tar' | 'direct' {
    return this.tar ? 'tar' : 'direct';
  }

  /**
   * Inspects one verified archive (the header-only pass of archive-read.ts): every entry passes the extraction
   * guard and the workspace check. Throws `UnsafeEntryError` (or `InvalidArchiveError`) on the first that does not.
   */
  check(source: Readable, compression: ArtifactCompression): Promise<ArchiveContents> {
    return inspectArchive(source, compression, (entry) => this.visit(entry));
  }

  /**
   * Extracts one checked archive with the system tar (only when `way` is `tar`; in the order they were checked).
   * An uncompressed one is given to tar as its open file, so that tar reads it directly.
   */
  async extract(
    content: Pick<VerifiedContent, 'open' | 'openFile'>,
    compression: ArtifactCompression,
    options: { signal?: AbortSignal; onProgress?: () => void } = {},
  ): Promise<void> {
    if (!this.tar) throw new Error('the system tar cannot extract into this workspace');
    const source =
      compression === 'gzip'
        ? pipeline(content.open(), createGunzip({ chunkSize }), () => undefined)
        : await content.openFile();
    await runSystemTar(this.dir, source, this.owner, options);
  }

  private async visit(entry: SafeEntry): Promise<void> {
    const segments = entry.path.split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      const ancestor = segments.slice(0, depth).join('/');
      const state = await this.stateOf(ancestor);
      if (state === 'other') throw new UnsafeEntryError(ancestor, 'is in the workspace already and is not a directory');
      if (state === 'absent') this.known.set(ancestor, 'new-directory');
    }
    const state = await this.stateOf(entry.path);
    if (entry.type === 'directory') {
      if (state === 'other')
        throw new UnsafeEntryError(entry.path, 'is in the workspace already and is not a directory');
      if (state === 'absent') this.known.set(entry.path, 'new-directory');
      return;
    }
    if (state === 'old-directory' || state === 'new-directory') {
      throw new UnsafeEntryError(entry.path, 'is a directory in the workspace already');
    }
    this.known.set(entry.path, 'other');
  }

  /** What `path` is when the entries checked so far are extracted; its parent has been looked at already. */
  private async stateOf(path: string): Promise<PathState> {
    const known = this.known.get(path);
    if (known) return known;
    const parent = posix.dirname(path) === '.' ? '' : posix.dirname(path);
    // Inside a directory the extraction creates, only its own entries can be.
    if (this.known.get(parent) !== 'old-directory') return 'absent';
    const found = await lstat(join(this.dir, path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!found) return 'absent';
    const state: PathState = found.isDirectory() ? 'old-directory' : 'other';
    // tar, as the step user, must be able to write into every directory that was there.
    if (state === 'old-directory' && found.uid !== this.owner.uid) this.tar = false;
    this.known.set(path, state);
    return state;
  }
}
