/**
 * Background processes of the embedded stack: started detached with their output in the data dir's logs, tracked
 * by pid files, and found again by later `conveyor dev` commands.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** One service of the stack. */
export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** TCP ports it listens on (checked for conflicts before starting). */
  ports: { host: string; port: number }[];
  /** Resolves once the service answers; rejects after its timeout. `logOffset`: its log's size before start. */
  ready: (logOffset?: number) => Promise<void>;
}

/** Files of a service under the data dir. */
export function serviceFiles(dataDir: string, name: string): { pid: string; log: string } {
  return { pid: path.join(dataDir, 'pids', `${name}.pid`), log: path.join(dataDir, 'logs', `${name}.log`) };
}

/** The pid of a running service started by Conveyor, if any. */
export function runningPid(dataDir: string, name: string): number | undefined {
  const { pid: pidFile } = serviceFiles(dataDir, name);
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    rmSync(pidFile, { force: true });
    return undefined;
  }
}

/** Starts a service detached from this process; its output goes to its log file. Returns the pid. */
export function startDetached(dataDir: string, spec: ServiceSpec): number {
  const files = serviceFiles(dataDir, spec.name);
  mkdirSync(path.dirname(files.pid), { recursive: true });
  mkdirSync(path.dirname(files.log), { recursive: true });
  const log = openSync(files.log, 'a');
  const child = spawn(spec.command, spec.args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...spec.env },
  });
  child.unref();
  if (!child.pid) throw new Error(`could not start ${spec.name} (${spec.command})`);
  writeFileSync(files.pid, String(child.pid));
  return child.pid;
}

/** Stops a service: SIGTERM to its process group, then SIGKILL after `graceMs`. Returns whether it was running. */
export async function stopService(dataDir: string, name: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(dataDir, name);
  if (!pid) return false;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(pid)) await delay(100);
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
  while (isAlive(pid)) await delay(50);
  rmSync(serviceFiles(dataDir, name).pid, { force: true });
  return true;
}

/** True when something accepts TCP connections on host:port. */
export function portAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Names the process listening on a TCP port (e.g. `nginx (pid 812)`), or `another program` when unknown. */
export function describePortOwner(port: number): string {
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
    const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(out);
    if (match) return `'${match[1]}' (pid ${match[2]})`;
  } catch {
    // ss is missing or not permitted; fall through to the generic answer.
  }
  return 'another program';
}

/** Polls `check` until it resolves true or `timeoutMs` passes. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await delay(200);
  }
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s`);
}

/** Finds an executable: on PATH first, then in the cache's bin directory where `scripts/setup` builds it. */
export function findTool(name: string, cacheDir: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), path.join(cacheDir, 'bin')]) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new Error(`'${name}' was not found on PATH or in ${path.join(cacheDir, 'bin')}; run 'npm run setup' first`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
