/**
 * A MinIO server of a test's own on a port of the engineer's test range, which the test stops and starts at will,
 * so the stack's MinIO is never disturbed. `stop` kills it; `dispose` (call it in `after`) also removes its data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client as MinioClient } from 'minio';
import { createS3Client, ensureBucket } from '../../activities/s3';
import { createS3Store } from '../../activities/store/s3';
import type { ArtifactStore } from '../../activities/store/store';
import { findTool, portAnswers } from '../../client/dev/processes';
import { loadConfig } from '../../workers/config';

const config = loadConfig();

/** A port from the engineer's test range (CONVEYOR_TEST_PORTS), else a fixed high one; `offset` picks which. */
export function testPort(offset: number): number {
  const range = /^(\d+)-(\d+)$/.exec(process.env.CONVEYOR_TEST_PORTS ?? '');
  return (range ? Number(range[1]) : 39000) + offset;
}

export const ownMinioCredentials = { MINIO_ROOT_USER: 'outage', MINIO_ROOT_PASSWORD: 'outage-secret' };

/** Polls `check` every 100 ms until it holds. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

/** This test's MinIO server. */
export class OwnMinio {
  private child: ChildProcess | undefined;
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** A MinIO in a fresh temporary directory on test port `offset` (and `offset + 1` for its console), started. */
  static async started(offset: number): Promise<OwnMinio> {
    const minio = new OwnMinio(await mkdtemp(path.join(tmpdir(), 'conveyor-own-minio-')), testPort(offset));
    await minio.start();
    return minio;
  }

  async start(): Promise<void> {
    this.child = spawn(
      findTool('minio', config.cacheDir),
      [
        'server',
        path.join(this.dir, 'data'),
        '--address',
        `127.0.0.1:${this.port}`,
        '--console-address',
        `127.0.0.1:${this.port + 1}`,
        '--quiet',
      ],
      { env: { ...process.env, ...ownMinioCredentials }, stdio: 'ignore' },
    );
    await waitUntil('MinIO to answer', async () => {
      const response = await fetch(`http://127.0.0.1:${this.port}/minio/health/live`).catch(() => undefined);
      return response?.ok === true;
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await waitUntil('the port to close', async () => !(await portAnswers('127.0.0.1', this.port)));
  }

  /** Stops it and removes its data. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** A client of it. */
  client(bucket: string): MinioClient {
    return createS3Client({
      endPoint: '127.0.0.1',
      port: this.port,
      useSSL: false,
      accessKey: ownMinioCredentials.MINIO_ROOT_USER,
      secretKey: ownMinioCredentials.MINIO_ROOT_PASSWORD,
      bucket,
    });
  }

  /** An artifact store on a new bucket of it; spools go under its directory. */
  async store(bucket: string, options: { partSize?: number; concurrency?: number } = {}): Promise<ArtifactStore> {
    const client = this.client(bucket);
    await ensureBucket(client, bucket);
    return createS3Store({
      client,
      bucket,
      spoolDir: this.spoolDir,
      endpoint: `127.0.0.1:${this.port}`,
      ...options,
    });
  }

  get spoolDir(): string {
    return path.join(this.dir, 'spool');
  }
}
