/**
 * Background processes of the embedded stack: started detached with their output in the data dir's logs, tracked
 * by pid files, and found again by later `conveyor dev` commands.
 */
import { spawn, execFileSync } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
  /** Resolves once the service (the process `record` describes) answers; rejects after its timeout. */
  ready: (record: ServiceRecord) => Promise<void>;
}

/** Files of a service under the data dir. */
export function serviceFiles(dataDir: string, name: string): { pid: string; log: string } {
  return { pid: path.join(dataDir, 'pids', `${name}.pid`), log: path.join(dataDir, 'logs', `${name}.log`) };
}

/**
 * What a pid file records about the process `dev up` started: its pid, its start time as the kernel counts it
 * (so a pid reused by another program after a crash is told apart) and its command line.
 */
export interface ServiceRecord {
  pid: number;
  startTime: string;
  commandLine: string[];
}

/** A process as the operating system describes it now. */
export interface ProcessIdentity {
  /** One-letter state (`R`, `S`, `Z` for a zombie, …). */
  state: string;
  startTime: string;
  commandLine: string[];
}

/**
 * Reads a process's state, start time and command line: from /proc on Linux, from `ps` elsewhere. Undefined when
 * there is no such process.
 */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so fields are counted after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      // Field 22 of /proc/PID/stat (the 20th after comm): start time in clock ticks since boot.
      return { state: fields[0] ?? '?', startTime: fields[19] ?? '', commandLine };
    } catch {
      return undefined;
    }
  }
  try {
    const out = execFileSync('ps', ['-o', 'stat=', '-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const args = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    if (!out) return undefined;
    return { state: out.slice(0, 1), startTime: out.slice(out.indexOf(' ') + 1).trim(), commandLine: args.split(' ') };
  } catch {
    return undefined;
  }
}

/**
 * Whether `record` still describes a live process: it exists, is not a zombie (a killed process its parent has not
 * reaped still has a pid) and is the very process that was started — same start time, same program. (Only the
 * program is compared, not every argument: some programs rewrite their arguments as they run.)
 */
export function isSameLiveProcess(record: ServiceRecord, identity = processIdentity(record.pid)): boolean {
  if (!identity || identity.state === 'Z' || identity.state === 'X') return false;
  return identity.startTime === record.startTime && identity.commandLine[0] === record.commandLine[0];
}

/** The pid file's record, if it holds one (an older Conveyor wrote only the pid: that is treated as no record). */
export function readServiceRecord(dataDir: string, name: string): ServiceRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(serviceFiles(dataDir, name).pid, 'utf8')) as Partial<ServiceRecord>;
    if (!Number.isInteger(record.pid) || typeof record.startTime !== 'string' || !Array.isArray(record.commandLine)) {
      return undefined;
    }
    return { pid: record.pid!, startTime: record.startTime, commandLine: record.commandLine };
  } catch {
    return undefined;
  }
}

/**
 * The record of a service started by Conveyor whose process still runs, if any. A pid file whose process is gone,
 * a zombie or another program (its pid reused) is removed, so the service counts as down and `dev up` starts it.
 */
export function runningService(dataDir: string, name: string): ServiceRecord | undefined {
  const pidFile = serviceFiles(dataDir, name).pid;
  if (!existsSync(pidFile)) return undefined;
  const record = readServiceRecord(dataDir, name) ?? legacyRecord(pidFile, name);
  if (record && isSameLiveProcess(record)) return record;
  rmSync(pidFile, { force: true });
  return undefined;
}

/** The pid of a running service started by Conveyor, if any (see `runningService`). */
export function runningPid(dataDir: string, name: string): number | undefined {
  return runningService(dataDir, name)?.pid;
}

/**
 * A pid file of an older Conveyor holds the pid alone. Its process is taken as the service while it runs the
 * service's program (so `dev down` can still stop it), and the file is rewritten in the current form.
 */
function legacyRecord(pidFile: string, name: string): ServiceRecord | undefined {
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const identity = processIdentity(pid);
  if (!identity) return undefined;
  const program = identity.commandLine.join(' ');
  if (!program.includes(name === 'worker' ? 'workers/main' : name)) return undefined;
  const record = { pid, startTime: identity.startTime, commandLine: identity.commandLine };
  writeFileSync(pidFile, `${JSON.stringify(record)}\n`);
  return record;
}

/** Starts a service detached from this process; its output goes to its log file. Returns its record. */
export function startDetached(dataDir: string, spec: ServiceSpec): ServiceRecord {
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
  closeSync(log);
  if (!child.pid) throw new Error(`could not start ${spec.name} (${spec.command})`);
  const identity = processIdentity(child.pid);
  const record: ServiceRecord = {
    pid: child.pid,
    startTime: identity?.startTime ?? '',
    commandLine: identity?.commandLine ?? [spec.command, ...spec.args],
  };
  writeFileSync(files.pid, `${JSON.stringify(record)}\n`);
  return record;
}

/** Stops a service: SIGTERM to its process group, then SIGKILL after `graceMs`. Returns whether it was running. */
export async function stopService(dataDir: string, name: string, graceMs = 10_000): Promise<boolean> {
  const record = runningService(dataDir, name);
  if (!record) return false;
  const { pid } = record;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isSameLiveProcess(record)) await delay(100);
  if (isSameLiveProcess(record)) signalGroup(pid, 'SIGKILL');
  while (isSameLiveProcess(record)) await delay(50);
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

/** A readiness check's verdict that waiting longer is pointless: the service's process is gone. */
export class ServiceExitedError extends Error {
  override name = 'ServiceExitedError';
}

/**
 * Polls `check` until it resolves true or `timeoutMs` passes; a check that fails counts as not ready yet, except
 * with a ServiceExitedError.
 */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = await check().catch((error: unknown) => {
      if (error instanceof ServiceExitedError) throw error;
      return false;
    });
    if (ready) return;
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
