/**
 * Real git for tests: repositories in temporary directories, commits, and `git daemon` serving bare repositories on
 * 127.0.0.1 at a port from this engineer's CONVEYOR_TEST_PORTS range (never a well-known port).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Runs git in `cwd` and returns its trimmed stdout. */
export function git(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', cwd, ...args],
      {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'Dana Developer',
          GIT_AUTHOR_EMAIL: 'dana@example.com',
          GIT_COMMITTER_NAME: 'Dana Developer',
          GIT_COMMITTER_EMAIL: 'dana@example.com',
          GIT_CONFIG_NOSYSTEM: '1',
        },
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

/** A scratch directory removed by `cleanup`. */
export async function scratchDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `conveyor-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes files (path → text) under `root`, creating directories. */
export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
}

/** A work tree on `main` with the files committed; returns its HEAD. */
export async function createWorkTree(
  dir: string,
  files: Record<string, string>,
  message = 'First commit',
): Promise<string> {
  await mkdir(dir, { recursive: true });
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  return commitFiles(dir, files, message);
}

/**
 * A work tree whose commit holds a file, a nested one, an executable (`bin/run`, 0755) and a symlink
 * (`main.js -> src/app.js`): what a checkout must reproduce. Returns the HEAD.
 */
export async function createTreeWithModesAndSymlink(dir: string): Promise<string> {
  await createWorkTree(dir, { VERSION: '1.0.0\n', 'src/app.js': 'console.log(1);\n', 'bin/run': 'echo run\n' });
  await chmod(path.join(dir, 'bin/run'), 0o755);
  await symlink('src/app.js', path.join(dir, 'main.js'));
  await git(dir, 'add', '--all');
  await git(dir, 'commit', '--quiet', '-m', 'Executable and symlink');
  return git(dir, 'rev-parse', 'HEAD');
}

/** Writes and commits files; returns the new HEAD. */
export async function commitFiles(dir: string, files: Record<string, string>, message: string): Promise<string> {
  await writeFiles(dir, files);
  await git(dir, 'add', '--all');
  await git(dir, 'commit', '--quiet', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

/** A bare repository `name.git` under `root`, with `source`'s branches pushed to it. */
export async function createBareRepository(root: string, name: string, source?: string): Promise<string> {
  const bare = path.join(root, `${name}.git`);
  await git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  if (source) await git(source, 'push', '--quiet', bare, '--all');
  return bare;
}

/** A running `git daemon` serving every repository under its base path. */
export interface GitDaemon {
  port: number;
  /** `git://127.0.0.1:<port>/<name>.git`. */
  url: (name: string) => string;
  stop: () => Promise<void>;
}

/** A port of CONVEYOR_TEST_PORTS (or 26000–26999) chosen at random, to spread concurrent tests apart. */
export function testPort(): number {
  const [low, high] = (process.env.CONVEYOR_TEST_PORTS ?? '26000-26999').split('-').map(Number) as [number, number];
  return low + Math.floor(Math.random() * (high - low + 1));
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts `git daemon` on 127.0.0.1 serving `basePath`, on a free port of the test range. */
export async function startGitDaemon(basePath: string): Promise<GitDaemon> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = testPort();
    if (await answers(port)) continue;
    const child: ChildProcess = spawn(
      'git',
      [
        'daemon',
        '--reuseaddr',
        '--export-all',
        `--base-path=${basePath}`,
        '--listen=127.0.0.1',
        `--port=${port}`,
        basePath,
      ],
      { stdio: 'ignore' },
    );
    let exited = false;
    child.once('exit', () => (exited = true));
    for (let wait = 0; wait < 100 && !exited; wait += 1) {
      if (await answers(port)) {
        return {
          port,
          url: (name) => `git://127.0.0.1:${port}/${name}.git`,
          stop: async () => {
            if (exited) return;
            const gone = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGTERM');
            await gone;
          },
        };
      }
      await delay(100);
    }
    if (!exited) child.kill('SIGKILL');
  }
  throw new Error('could not start git daemon on a free port of the test range');
}
