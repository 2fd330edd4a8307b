/**
 * `conveyor token create | list | revoke` and `conveyor serve` as a user runs them: a token shown once and stored as
 * a digest, accepted by the server at once and refused once revoked; the server on loopback only.
 */
import { freePort } from '../helpers/ports';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { conveyor, conveyorBin, lastJsonLine } from '../helpers/cli';
import { eventually } from '../helpers/server';

const dir = mkdtempSync(path.join(tmpdir(), 'conveyor-cli-token-'));
const configFile = path.join(dir, 'conveyor.config.yml');
const env = { CONVEYOR_CONFIG: configFile };

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('conveyor token and conveyor serve', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a token shown once, lists it without the secret, and refuses an unknown user', async () => {
    writeFileSync(configFile, 'access:\n  users:\n    alice: {roles: [viewer]}\n');
    const created = await conveyor(['token', 'create', 'alice', '--description', 'laptop'], { env });
    assert.equal(created.code, 0, created.stderr);
    const token = /^ {2}(cvy_\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(token, created.stdout);
    assert.ok(!readFileSync(configFile, 'utf8').includes(token), 'the file holds no token');

    const listed = await conveyor(['token', 'list', '--json'], { env });
    const rows = lastJsonLine<{ id: string; user: string; description: string }[]>(listed.stdout);
    assert.deepEqual(
      rows.map((row) => [row.user, row.description]),
      [['alice', 'laptop']],
    );
    assert.ok(!listed.stdout.includes(token));

    const unknown = await conveyor(['token', 'create', 'alcie'], { env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^conveyor: no user 'alcie' under access\.users .*did you mean 'alice'/);
  });

  it('serves on 127.0.0.1 only, accepts a new token at once and refuses it once revoked', async () => {
    const port = await freePort();
    const child = spawn(conveyorBin, ['serve', '--port', String(port)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await eventually('the server is ready', async () => (output.includes('server ready') ? true : undefined));
      assert.match(output, new RegExp(`server ready on http://127\\.0\\.0\\.1:${port}`));
      assert.equal(await connects('127.0.0.1', port), true);
      assert.equal(await connects('127.0.0.2', port), false, 'not reachable on another address');

      const created = await conveyor(['token', 'create', 'alice', '--json'], { env });
      const { token, id } = lastJsonLine<{ token: string; id: string }>(created.stdout);
      const get = () =>
        fetch(`http://127.0.0.1:${port}/api/runs?limit=1`, { headers: { authorization: `Bearer ${token}` } });
      await eventually('the new token works', async () => ((await get()).status === 200 ? true : undefined));
      const revoked = await conveyor(['token', 'revoke', id], { env });
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stdout, new RegExp(`revoked ${id} of alice`));
      await eventually('the revoked token is refused', async () => ((await get()).status === 401 ? true : undefined));
      assert.ok(!output.includes(token), 'the server never logged the token');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
  });

  it('refuses a bad --port in one line', async () => {
    const bad = await conveyor(['serve', '--port', 'eighty'], { env });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "conveyor: --port must be a port number 1-65535 (got 'eighty')\n");
  });
});
