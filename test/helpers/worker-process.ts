/** Starting and killing a worker process, for tests of what survives a worker crash. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A running worker process. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output: () => string;
  /** Resolves with its exit code (null when a signal ended it) once it has exited. */
  exited: Promise<number | null>;
  /** SIGKILL, as a crash would: no shutdown, no cleanup. */
  crash: () => Promise<void>;
  /** A graceful stop: SIGTERM drains it (docs/runs.md, "Stopping a worker"). */
  stop: () => Promise<void>;
}

/**
 * Starts a worker on `taskQueue` in a new process and waits until it polls (up to `startTimeoutMs`, default 60 s:
 * each process bundles the workflows, which takes long on a loaded machine); a worker that did not start is killed.
 * `root` is the checkout whose code it runs (default this one; another release's, for upgrade tests).
 */
export async function startWorkerProcess(
  taskQueue: string,
  env: NodeJS.ProcessEnv = {},
  startTimeoutMs = 60_000,
  root = path.resolve(__dirname, '../..'),
): Promise<WorkerProcess> {
  const entry = path.join(root, 'test/helpers/worker-entry.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', entry, taskQueue], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker did not start in ${startTimeoutMs / 1000} s:\n${output}`));
    }, startTimeoutMs);
    const check = () => {
      if (output.includes('worker ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${output}`)));
  });
  return {
    child,
    output: () => output,
    exited,
    crash: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
