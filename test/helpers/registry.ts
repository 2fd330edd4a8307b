/**
 * A real image registry for tests: Debian's `docker-registry` (the Distribution registry) on a free port of
 * 127.0.0.1, with htpasswd (bcrypt) authentication, its configuration and storage in a temporary directory. The
 * Docker engine treats 127.0.0.0/8 as an insecure registry, so plain HTTP works. `stop()` ends the process and
 * removes the directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { docker } from './temporal';
import { freePort } from './ports';

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry part of image references. */
  host: string;
  username: string;
  password: string;
  /** Tags a local image as `host/repository:tag` and pushes it; the local tag is removed again. */
  push(localImage: string, repository: string, tag: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestRegistry(username: string, password: string): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(tmpdir(), 'conveyor-registry-'));
  const hash = spawnSync('htpasswd', ['-nbB', username, password], { encoding: 'utf8' });
  if (hash.status !== 0) throw new Error(`htpasswd failed (apt-get install apache2-utils): ${hash.stderr}`);
  writeFileSync(path.join(dir, 'htpasswd'), hash.stdout);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  writeFileSync(
    path.join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, 'data'))} }, delete: { enabled: true } }`,
      `http: { addr: "${host}", secret: conveyor-test }`,
      `auth: { htpasswd: { realm: conveyor-test, path: ${JSON.stringify(path.join(dir, 'htpasswd'))} } }`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(`http://${host}/v2/`, child);
  } catch (error) {
    await stop();
    throw error;
  }
  const auth = { username, password, serveraddress: host };
  return {
    host,
    username,
    password,
    async push(localImage, repository, tag) {
      const reference = `${host}/${repository}`;
      await docker.getImage(localImage).tag({ repo: reference, tag });
      const stream = await docker.getImage(`${reference}:${tag}`).push({ authconfig: auth });
      const output = await new Promise<string>((resolve, reject) => {
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      await docker.getImage(`${reference}:${tag}`).remove();
      if (/"error"/.test(output)) throw new Error(`pushing ${reference}:${tag} failed: ${output}`);
      return `${reference}:${tag}`;
    },
    stop,
  };
}

/** Waits until the registry answers (401 without credentials counts), for as long as the process lives. */
async function waitUntilAnswering(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode} before answering`);
    try {
      await fetch(url);
      return;
    } catch {
      await delay(100);
    }
  }
  throw new Error(`docker-registry did not answer at ${url} within 60 s`);
}
