/**
 * Extracting a verified, checked archive into an empty local workspace with the system `tar`
 * (docs/artifacts.md#workspace-io): one process writes the whole tree, instead of a handful of asynchronous file
 * system calls per entry from Node — the difference that made source checkouts fast (docs/benchmarks.md, "Source
 * checkout: where the time went").
 *
 * Safety, on top of the digest and the extraction guard every entry has already passed (`SharedArchives`):
 * - only into an **empty** directory, so no symlink or file of a job can be in the way (a non-empty one is left to
 *   the careful per-entry writer, which checks every parent);
 * - `tar` runs **as the step user**, with the workspace as its working directory (entered before it drops root), so
 *   it can write nowhere the step user could not, needs no access to the volume's parent directories, and the files
 *   are the step user's without a `chown` each;
 * - `--no-same-owner --no-same-permissions`: ownership and modes never come from the archive (modes are the
 *   archive's under the worker's umask, and the archive's are 0644/0755: `git archive` runs with `tar.umask=0022`).
 */
import { spawn } from 'node:child_process';
import { lchown, lstat, mkdir, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { splitTar } from './tar-split';

/** The system tar failed (its first line of stderr). */
export class SystemTarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SystemTarError';
  }
}

let available: Promise<boolean> | undefined;

/** Whether a `tar` that understands the options used here is on PATH (asked once per process). */
export function systemTarAvailable(): Promise<boolean> {
  available ??= new Promise<boolean>((resolve) => {
    const child = spawn('tar', ['--version'], { stdio: ['ignore', 'ignore', 'ignore'], env: tarEnvironment() });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
  return available;
}

/**
 * Extracts `open()` into `base` (workspace-relative, '' for the root) under `dir` with the system tar, as `owner`,
 * when that is possible: this process is root or the owner itself, a tar is installed, and `dir` is empty. Returns
 * false (having written nothing) when it is not, and the caller writes the entries itself.
 */
export async function extractWithSystemTar(
  dir: string,
  base: string,
  open: () => Readable,
  owner: { uid: number; gid: number },
  options: {
    signal?: AbortSignal;
    onProgress?: () => void;
    /** How many tar processes extract at once, each a share of the entries (tar-split.ts); default 1. */
    ways?: number;
  } = {},
): Promise<boolean> {
  if (!(await systemTarUsable(owner))) return false;
  if ((await readdir(dir)).length > 0) return false;
  let cwd = dir;
  for (const segment of base.split('/').filter(Boolean)) {
    // The directory was empty: nothing of a job's can be in the way, and lstat makes sure.
    cwd = join(cwd, segment);
    const found = await lstat(cwd).catch(() => undefined);
    if (found && !found.isDirectory()) return false;
    if (!found) {
      await mkdir(cwd, { mode: 0o755 });
      await lchown(cwd, owner.uid, owner.gid);
    }
  }
  const ways = options.ways ?? 1;
  if (ways <= 1) await runSystemTar(cwd, open(), owner, options);
  else {
    const results = await Promise.allSettled(
      splitTar(open(), ways).map((part) => runSystemTar(cwd, part, owner, options)),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return true;
}

/**
 * Whether this process can run the system tar as `owner`: it is root or the owner itself, a tar is installed, and
 * `CONVEYOR_WORKSPACE_IO=direct` does not ask for the entry-by-entry writer.
 */
export async function systemTarUsable(owner: { uid: number; gid: number }): Promise<boolean> {
  const uid = process.getuid?.();
  if (uid === undefined || (uid !== 0 && uid !== owner.uid)) return false;
  return process.env.CONVEYOR_WORKSPACE_IO !== 'direct' && (await systemTarAvailable());
}

/**
 * Extracts the tar stream `source` into `cwd` with the system tar as `owner` (see the safety notes above: the
 * caller has checked every entry, and that nothing already in `cwd` can redirect a write).
 */
export async function runSystemTar(
  cwd: string,
  source: Readable | FileHandle,
  owner: { uid: number; gid: number },
  options: { signal?: AbortSignal; onProgress?: () => void },
): Promise<void> {
  // -m: files get the extraction time, as a clone's do.
  const args = ['-x', '-f', '-', '-m', '--no-same-owner', '--no-same-permissions'];
  // A local file is tar's standard input itself: tar reads it, instead of this process copying it into a pipe.
  const file = source instanceof Readable ? undefined : source;
  const child = spawn('tar', args, {
    cwd,
    env: tarEnvironment(),
    stdio: [file ? file.fd : 'pipe', 'ignore', 'pipe'],
    signal: options.signal,
    ...(process.getuid?.() === owner.uid ? {} : { uid: owner.uid, gid: owner.gid }),
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  let feeding: Promise<void>;
  if (file) {
    // The child has its own copy of the descriptor now.
    feeding = file.close();
  } else {
    const stream = source as Readable;
    if (options.onProgress) stream.on('data', options.onProgress);
    feeding = pipeline(stream, child.stdin as Writable);
  }
  const [fed, code] = await Promise.allSettled([feeding, exited]);
  if (options.signal?.aborted) throw options.signal.reason;
  if (code.status === 'rejected') throw code.reason;
  if (code.value !== 0) {
    const why = stderr.split('\n').find((line) => line.trim() !== '') ?? `tar exited with ${code.value}`;
    throw new SystemTarError(`extracting with tar: ${why.trim()}`);
  }
  // tar succeeded without reading the padding after the end-of-archive marker (its stdin closed early): fine.
  const closedEarly = ['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'];
  if (fed.status === 'rejected' && !closedEarly.includes((fed.reason as NodeJS.ErrnoException).code ?? '')) {
    throw fed.reason;
  }
}

function tarEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
}
