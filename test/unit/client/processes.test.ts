/**
 * How `conveyor dev` tells whether a service it started still runs, on real processes: a pid counts only while its
 * process exists, is not a zombie and is the program that was started — a crash leaves none of these true.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  delay,
  isSameLiveProcess,
  processIdentity,
  runningService,
  serviceFiles,
  startDetached,
  stopService,
} from '../../../client/dev/processes';

let dataDir = '';

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !condition(); i += 1) await delay(50);
  assert.ok(condition(), what);
}

describe('service processes', () => {
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-processes-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a started service runs until it is killed; then its pid file is removed', async () => {
    const record = startDetached(dataDir, {
      name: 'sleeper',
      command: 'sleep',
      args: ['300'],
      ports: [],
      ready: async () => {},
    });
    assert.deepEqual(runningService(dataDir, 'sleeper'), record);
    process.kill(record.pid, 'SIGKILL');
    await until(() => runningService(dataDir, 'sleeper') === undefined, 'the killed service counts as down');
    await assert.rejects(stat(serviceFiles(dataDir, 'sleeper').pid), 'the stale pid file is gone');
  });

  it('a killed process its parent has not reaped (a zombie) is not running', async () => {
    // `sh` starts a sleep and does not reap it until told to, so the killed sleep stays a zombie meanwhile.
    const parent = spawn('sh', ['-c', 'sleep 300 & echo $!; read line; wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const pid = Number(
      await new Promise<string>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))),
    );
    const identity = processIdentity(pid);
    assert.ok(identity, 'the sleep runs');
    const record = { pid, startTime: identity.startTime, commandLine: identity.commandLine };
    assert.equal(isSameLiveProcess(record), true);
    process.kill(pid, 'SIGKILL');
    await until(() => processIdentity(pid)?.state === 'Z', 'the sleep became a zombie');
    assert.equal(isSameLiveProcess(record), false, 'a zombie is not a running service');
    parent.stdin.end('done\n');
    await new Promise((resolve) => parent.once('close', resolve));
  });

  it('a pid now held by another program (reused after a crash) is not the service', async () => {
    const self = processIdentity(process.pid);
    assert.ok(self);
    await writeFile(
      serviceFiles(dataDir, 'worker').pid,
      JSON.stringify({
        pid: process.pid,
        startTime: String(Number(self.startTime) - 100),
        commandLine: self.commandLine,
      }),
    );
    assert.equal(runningService(dataDir, 'worker'), undefined, 'a different start time: another process');
    await writeFile(
      serviceFiles(dataDir, 'worker').pid,
      JSON.stringify({ pid: process.pid, startTime: self.startTime, commandLine: ['/usr/bin/temporal', 'server'] }),
    );
    assert.equal(runningService(dataDir, 'worker'), undefined, 'another program');
  });

  it('stops a service and says whether it ran', async () => {
    const record = startDetached(dataDir, {
      name: 'stopped',
      command: 'sleep',
      args: ['300'],
      ports: [],
      ready: async () => {},
    });
    assert.equal(await stopService(dataDir, 'stopped', 5000), true);
    assert.equal(isSameLiveProcess(record), false);
    assert.equal(await stopService(dataDir, 'stopped', 5000), false);
  });
});
