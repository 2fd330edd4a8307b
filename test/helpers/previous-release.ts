/**
 * The previous release of Conveyor (docs/operations.md, "Rolling upgrades"): the commit named in
 * test/replay/histories/previous-release/release.json, materialised from this clone's git history into a temporary
 * directory that shares today's node_modules, so a test can run that release's worker beside today's.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

/** Where the previous release's recorded histories and its commit are kept. */
export const previousReleaseDir = path.join(root, 'test/replay/histories/previous-release');

/** The previous release's commit. */
export function previousReleaseCommit(): string {
  const release = JSON.parse(readFileSync(path.join(previousReleaseDir, 'release.json'), 'utf8')) as {
    commit: string;
  };
  return release.commit;
}

/**
 * Extracts the previous release's tree into a new temporary directory (with a `node_modules` link to today's);
 * `remove` deletes it. Fails with one line when this clone lacks the commit (a shallow clone).
 */
export async function checkoutPreviousRelease(): Promise<{
  root: string;
  commit: string;
  remove: () => Promise<void>;
}> {
  const commit = previousReleaseCommit();
  try {
    await run('git', ['-C', root, 'cat-file', '-e', `${commit}^{commit}`]);
  } catch {
    throw new Error(
      `the previous release ${commit.slice(0, 12)} (test/replay/histories/previous-release/release.json) is not in ` +
        `this clone's history; clone without --depth or run 'git fetch --unshallow'`,
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'conveyor-previous-release-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const archive = path.join(dir, 'release.tar');
    await run('git', ['-C', root, 'archive', '--format=tar', '-o', archive, commit]);
    await run('tar', ['-xf', archive, '-C', dir]);
    await rm(archive);
    await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  } catch (error) {
    await remove();
    throw error;
  }
  return { root: dir, commit, remove };
}

/** The workflow types the worker registers (the exports of workflows/index.ts). */
export function registeredWorkflowTypes(): string[] {
  const index = readFileSync(path.join(root, 'workflows/index.ts'), 'utf8');
  return [...index.matchAll(/^export \{ (\w+) \} from/gm)].map((match) => match[1]!).sort();
}
