/**
 * The CLI's view of the git work tree it runs in (docs/triggers.md): its root, the checked-out commit and branch,
 * whether there is uncommitted work, and — for `--allow-dirty` — a snapshot commit of the working files that
 * leaves the work tree, the index and every branch as they were.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { git } from './git';

/** A work tree as the CLI found it. */
export interface WorkTree {
  /** The top-level directory. */
  root: string;
  /** The checked-out commit. */
  head: string;
  /** The checked-out branch; absent on a detached HEAD. */
  branch?: string;
  /** Uncommitted changes, as `git status --porcelain` lines (untracked files included, ignored ones not). */
  changes: string[];
}

/** The work tree containing `directory`, or `undefined` when it is not inside one (or git is missing). */
export async function findWorkTree(directory: string): Promise<string | undefined> {
  const root = await git(['rev-parse', '--show-toplevel'], 'finding the work tree', { cwd: directory }).catch(
    () => undefined,
  );
  return root?.trim() || undefined;
}

/** Reads HEAD, the branch and the uncommitted changes of the work tree at `root`. */
export async function describeWorkTree(root: string): Promise<WorkTree> {
  // The three `git` processes run at once (`conveyor run` waits for them before it starts a run); their results are
  // taken in order, so a repository without commits still gets that message first.
  const reading = {
    head: git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], 'reading HEAD', { cwd: root }),
    branch: git(['symbolic-ref', '--quiet', '--short', 'HEAD'], 'reading the branch', { cwd: root }).catch(() => ''),
    status: git(['status', '--porcelain', '--untracked-files=normal'], 'reading the status', { cwd: root }),
  };
  reading.status.catch(() => undefined);
  const head = await reading.head.catch(() => {
    throw new Error(`the repository at ${root} has no commits yet: commit something first (git commit)`);
  });
  const branch = (await reading.branch).trim();
  const status = await reading.status;
  const changes = status.split('\n').filter((line) => line.trim() !== '');
  return { root, head: head.trim(), ...(branch ? { branch } : {}), changes };
}

/**
 * Commits the working files (tracked changes and untracked, not ignored, files) on top of HEAD without touching the
 * index, the work tree or any branch: through a copy of the index, `write-tree` and `commit-tree`. The commit is
 * kept from garbage collection by a ref under `refs/conveyor/snapshots/`. Returns its SHA.
 */
export async function snapshotWorkTree(tree: WorkTree): Promise<string> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'conveyor-snapshot-'));
  try {
    const index = path.join(scratch, 'index');
    const gitDir = (await git(['rev-parse', '--absolute-git-dir'], 'finding .git', { cwd: tree.root })).trim();
    // A copy of the real index keeps git's stat cache, so unchanged files are not hashed again.
    await copyFile(path.join(gitDir, 'index'), index).catch(() => undefined);
    const env = { GIT_INDEX_FILE: index };
    await git(['add', '--all', '--', '.'], 'snapshotting the working files', { cwd: tree.root, env });
    const treeId = (await git(['write-tree'], 'snapshotting the working files', { cwd: tree.root, env })).trim();
    const identity = {
      GIT_AUTHOR_NAME: 'Conveyor',
      GIT_AUTHOR_EMAIL: 'conveyor@localhost',
      GIT_COMMITTER_NAME: 'Conveyor',
      GIT_COMMITTER_EMAIL: 'conveyor@localhost',
    };
    const commit = (
      await git(
        ['commit-tree', treeId, '-p', tree.head, '-m', `Snapshot of uncommitted work on ${tree.head.slice(0, 12)}`],
        'snapshotting the working files',
        { cwd: tree.root, env: identity },
      )
    ).trim();
    await git(['update-ref', `refs/conveyor/snapshots/${commit}`, commit], 'keeping the snapshot', { cwd: tree.root });
    return commit;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
