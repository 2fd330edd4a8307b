/**
 * Running git for Conveyor: never interactive (no prompts, no pager), credentials passed through the environment
 * rather than the command line or a URL (so `ps` and error messages never show them), and failures as
 * {@link GitError}s that quote git's own message.
 */
import { execFile, spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { ConveyorError } from '../errors';

/** How to authenticate to a repository URL (config/providers.ts `credentials`). */
export interface GitCredentials {
  /** HTTP(S): sent as `Authorization: Basic` (a username and a password or token). */
  username?: string;
  password?: string;
  /** HTTP(S): sent as `Authorization: Bearer`. */
  bearerToken?: string;
  /** SSH: the private key file to use. */
  sshKeyFile?: string;
}

/** git failed; `stderr` says why in git's words. */
export class GitError extends ConveyorError {
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly stderr: string,
    options: { retryable?: boolean } = {},
  ) {
    super(message, { stderr: stderr.slice(0, 2000) });
    this.retryable = options.retryable ?? false;
  }
}

/** The environment git runs with: no prompts, no system or user config surprises, credentials when given. */
export function gitEnvironment(credentials?: GitCredentials): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    GIT_PAGER: 'cat',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  const config: Array<[string, string]> = [
    ['protocol.version', '2'],
    ['advice.detachedHead', 'false'],
    ['safe.directory', '*'],
  ];
  if (credentials?.bearerToken) config.push(['http.extraHeader', `Authorization: Bearer ${credentials.bearerToken}`]);
  else if (credentials?.username !== undefined || credentials?.password !== undefined) {
    const basic = Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64');
    config.push(['http.extraHeader', `Authorization: Basic ${basic}`]);
  }
  if (credentials?.sshKeyFile) {
    env.GIT_SSH_COMMAND = `ssh -i '${credentials.sshKeyFile.replace(/'/g, "'\\''")}' -o IdentitiesOnly=yes -o BatchMode=yes`;
  }
  // GIT_CONFIG_COUNT keeps these out of argv and out of any repository's config file.
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/** Options of {@link git}. */
export interface GitOptions {
  /** The repository (`git -C`). */
  cwd?: string;
  credentials?: GitCredentials;
  /** Extra environment (e.g. GIT_INDEX_FILE). */
  env?: NodeJS.ProcessEnv;
  /** Kill git after this long (default 10 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Text for stdin. */
  input?: string;
}

/** Runs git to completion and returns its stdout; throws a GitError naming `what` on a non-zero exit. */
export function git(args: string[], what: string, options: GitOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      options.cwd ? ['-C', options.cwd, ...args] : args,
      {
        env: { ...gitEnvironment(options.credentials), ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 600_000,
        signal: options.signal,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(new GitError(`${what}: git is not installed on this host (install git)`, ''));
        }
        reject(new GitError(`${what}: ${firstMeaningfulLine(stderr) || error.message}`, stderr));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * Starts git with its stdout as a stream (for `git archive`): the stream fails with a GitError when git exits
 * non-zero, so a consumer never mistakes a truncated archive for a whole one.
 */
export function gitStream(args: string[], what: string, options: GitOptions = {}): Readable {
  const child = spawn('git', options.cwd ? ['-C', options.cwd, ...args] : args, {
    env: { ...gitEnvironment(options.credentials), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: options.signal,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 8192) stderr += chunk;
  });
  const stdout = child.stdout;
  // Until git has exited successfully the stream must not end: hold back its end, then pass or fail it.
  const output = new PassThrough();
  stdout.pipe(output, { end: false });
  let exited: { code: number | null } | undefined;
  let drained = false;
  const finish = () => {
    if (!exited || !drained) return;
    if (exited.code === 0) output.end();
    else {
      const why = firstMeaningfulLine(stderr) || `git exited with ${exited.code}`;
      output.destroy(new GitError(`${what}: ${why}`, stderr));
    }
  };
  stdout.once('end', () => {
    drained = true;
    finish();
  });
  child.once('error', (error) => output.destroy(error));
  child.once('close', (code) => {
    exited = { code };
    finish();
  });
  output.once('close', () => {
    if (!exited) child.kill('SIGKILL');
  });
  return output;
}

function firstMeaningfulLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('hint:'));
  const fatal = lines.find((line) => line.startsWith('fatal:') || line.startsWith('error:'));
  return (fatal ?? lines[0] ?? '').replace(/^(fatal|error): /, '');
}

/** Removes credentials from a URL for display and recording (`https://user:secret@host/x` → `https://host/x`). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Whether `value` is a full 40-hex commit SHA. */
export function isFullSha(value: string): boolean {
  return /^[0-9a-f]{40}$/.test(value);
}
