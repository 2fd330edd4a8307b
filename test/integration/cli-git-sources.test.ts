/**
 * `conveyor run` with sources from git, as a developer meets it (docs/triggers.md), against the embedded stack's
 * worker: inside a clone of a `file://` repository and of one served by `git daemon` on 127.0.0.1 the run builds
 * the checked-out commit (its two jobs see the same one); uncommitted work is refused in one line, and built as a
 * snapshot with `--allow-dirty`; `--repo URL|PATH --ref REF` runs a repository from elsewhere.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conveyor, type CommandResult } from '../helpers/cli';
import { createBareRepository, createWorkTree, git, scratchDir, startGitDaemon, type GitDaemon } from '../helpers/git';
import { leftoversOf } from '../helpers/temporal';

/** Two jobs, each printing the commit and the committed file it sees in /workspace. */
const pipeline = `name: git-sources
jobs:
  build:
    steps:
      - name: show
        image: conveyor/busybox:latest
        script:
          - echo "build sees $(cat VERSION) at $CONVEYOR_COMMIT on $CONVEYOR_BRANCH ($CONVEYOR_EVENT)"
  test:
    steps:
      - name: show
        image: conveyor/busybox:latest
        script:
          - echo "test sees $(cat VERSION) at $CONVEYOR_COMMIT"
`;

let scratch = '';
let cleanup: () => Promise<void> = async () => undefined;
let daemon: GitDaemon;
let bare = '';
let mainCommit = '';
let releaseCommit = '';

/** `conveyor run ARGS…` in `cwd`; a run that succeeded must leave nothing behind on the Docker host. */
async function run(cwd: string, ...args: string[]): Promise<CommandResult> {
  const result = await conveyor(['run', ...args], { cwd, timeoutMs: 300_000 });
  const runId = /run (run-git-sources-\S+) succeeded/.exec(result.stdout)?.[1];
  if (runId) assert.deepEqual(await leftoversOf(runId), []);
  return result;
}

/** Both jobs saw `version` at `commit`. */
function assertBuilt(result: CommandResult, version: string, commit: string, branch = 'main'): void {
  assert.equal(result.code, 0, result.stderr);
  assert.ok(
    result.stdout.includes(`[build/show] build sees ${version} at ${commit} on ${branch} (manual)`),
    result.stdout,
  );
  assert.ok(result.stdout.includes(`[test/show] test sees ${version} at ${commit}`), result.stdout);
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
}

describe('conveyor run from git', () => {
  before(async () => {
    const dir = await scratchDir('cli-git');
    scratch = dir.dir;
    cleanup = dir.cleanup;
    const origin = path.join(scratch, 'origin');
    mainCommit = await createWorkTree(origin, { '.conveyor.yml': pipeline, VERSION: '1.0.0\n' });
    await git(origin, 'checkout', '--quiet', '-b', 'release/2');
    await writeFile(path.join(origin, 'VERSION'), '2.0.0\n');
    await git(origin, 'commit', '--quiet', '-am', 'Release 2.0.0');
    releaseCommit = await git(origin, 'rev-parse', 'HEAD');
    bare = await createBareRepository(scratch, 'app', origin);
    daemon = await startGitDaemon(scratch);
  });
  after(async () => {
    await daemon?.stop();
    await cleanup();
  });

  it('inside a clone of a file:// repository builds the checked-out commit, the same one in both jobs', async () => {
    const clone = path.join(scratch, 'clone-file');
    await git(scratch, 'clone', '--quiet', `file://${bare}`, clone);
    const result = await run(clone);
    assertBuilt(result, '1.0.0', mainCommit);
    assert.match(result.stderr + result.stdout, new RegExp(`source: .*${mainCommit.slice(0, 12)}`));
  });

  it('inside a clone served by git daemon builds the checked-out commit, and --ref another one', async () => {
    const clone = path.join(scratch, 'clone-daemon');
    await git(scratch, 'clone', '--quiet', daemon.url('app'), clone);
    assertBuilt(await run(clone), '1.0.0', mainCommit);
    assertBuilt(await run(clone, '--ref', 'origin/release/2'), '2.0.0', releaseCommit, '');
  });

  it('refuses uncommitted work in one line, and builds a snapshot of it with --allow-dirty', async () => {
    const clone = path.join(scratch, 'clone-dirty');
    await git(scratch, 'clone', '--quiet', `file://${bare}`, clone);
    await writeFile(path.join(clone, 'VERSION'), '1.0.1-dev\n');

    const refused = await conveyor(['run'], { cwd: clone });
    assert.equal(refused.code, 2);
    assertOneLine(
      refused.stderr,
      /^conveyor: the work tree has uncommitted changes \(1 file: M VERSION\): commit or stash them, or run with --allow-dirty/,
    );

    const result = await run(clone, '--allow-dirty');
    assert.equal(result.code, 0, result.stderr);
    const notice =
      /building a snapshot of uncommitted work \(1 file: M VERSION\) on ([0-9a-f]{12}): commit ([0-9a-f]{12})/;
    const [, base, snapshot] = (result.stdout + result.stderr).match(notice) ?? [];
    assert.equal(base, mainCommit.slice(0, 12), result.stdout + result.stderr);
    assert.ok(result.stdout.includes(`[build/show] build sees 1.0.1-dev at ${snapshot}`), result.stdout);
    assert.ok(result.stdout.includes(`[test/show] test sees 1.0.1-dev at ${snapshot}`), result.stdout);
    // The snapshot is a commit of its own: the work tree, its index and its HEAD are as they were.
    assert.equal(await git(clone, 'rev-parse', 'HEAD'), mainCommit);
    assert.equal(await git(clone, 'status', '--porcelain'), 'M VERSION');
  });

  it('--repo runs a repository from elsewhere: a git:// URL at --ref, a path at its HEAD', async () => {
    const outside = path.join(scratch, 'elsewhere');
    // Not inside any work tree: only --repo gives the run its sources.
    await mkdir(outside);
    assertBuilt(
      await run(outside, '--repo', daemon.url('app'), '--ref', 'release/2'),
      '2.0.0',
      releaseCommit,
      'release/2',
    );
    assertBuilt(await run(outside, '--repo', bare), '1.0.0', mainCommit);

    const dirty = await conveyor(['run', '--repo', bare, '--allow-dirty'], { cwd: outside });
    assert.equal(dirty.code, 2);
    assertOneLine(dirty.stderr, /--allow-dirty applies to the work tree you are in, not to --repo/);
    const missing = await conveyor(['run', '--repo', daemon.url('app'), '--ref', 'no-such-branch'], { cwd: outside });
    assert.notEqual(missing.code, 0);
    assertOneLine(missing.stderr, /no-such-branch/);
  });
});
