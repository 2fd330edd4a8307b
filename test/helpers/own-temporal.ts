/**
 * A Temporal dev server of a test's own (on a free port, with its own database file), for tests that stop and
 * restart the server: what the embedded stack's server holds survives a restart the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { findTool } from '../../client/dev/processes';
import { conveyorSearchAttributes } from '../../workflows/search-attributes';
import { config } from './temporal';

/** A Temporal dev server of this test's own, restartable on the same port and database. */
export class OwnTemporal {
  private child: ChildProcess | undefined;
  private output = '';
  constructor(
    readonly port: number,
    private readonly dbFile: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['server', 'start-dev', '--headless', '--db-filename', this.dbFile, '--ip', '127.0.0.1'];
    args.push('--port', String(this.port), '--namespace', config.temporal.namespace, '--log-level', 'error');
    for (const { name, type } of conveyorSearchAttributes) args.push('--search-attribute', `${name}=${type}`);
    const child = spawn(findTool('temporal', config.cacheDir), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child = child;
    for (let tries = 0; tries < 600; tries += 1) {
      if (child.exitCode !== null) throw new Error(`the Temporal dev server exited:\n${this.output}`);
      const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 }).catch(() => null);
      if (connection) {
        const healthy = await connection.healthService
          .check({})
          .then(() => true)
          .catch(() => false);
        await connection.close();
        if (healthy) return;
      }
      await delay(200);
    }
    throw new Error(`the Temporal dev server did not start:\n${this.output}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
