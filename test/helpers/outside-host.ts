/**
 * A host "outside" this machine for network tests: an HTTP server in a network namespace of its own, reached through
 * a veth pair and the host's routing (forwarded traffic, as to the internet), not through a local address of the host
 * (which even Docker's internal networks reach). Needs root and `ip` (iproute2), as the tests run in CI.
 */
import { execFile, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** An HTTP server outside the host, answering every request with `body`. */
export interface OutsideHost {
  /** Its address (in 198.18.0.0/15, the range reserved for network tests). */
  address: string;
  port: number;
  body: string;
  /** Stops the server and removes the namespace and the veth pair. */
  stop(): Promise<void>;
}

/** Starts an outside host; `stop()` it in a `finally`. */
export async function startOutsideHost(body: string): Promise<OutsideHost> {
  const id = randomInt(0, 0xffffff).toString(16).padStart(6, '0');
  const namespace = `conveyor-test-${id}`;
  const [hostEnd, outsideEnd] = [`cvt${id}h`, `cvt${id}o`];
  // A /30 of 198.18.0.0/15 picked at random, so tests of several checkouts on one machine do not meet.
  const base = randomInt(0, 2 ** 15) * 4;
  const octets = (offset: number) =>
    `198.${18 + ((base + offset) >> 16)}.${((base + offset) >> 8) & 255}.${(base + offset) & 255}`;
  const [hostAddress, address] = [octets(1), octets(2)];
  const port = 8080;
  const steps: string[][] = [
    ['netns', 'add', namespace],
    ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', outsideEnd],
    ['link', 'set', outsideEnd, 'netns', namespace],
    ['addr', 'add', `${hostAddress}/30`, 'dev', hostEnd],
    ['link', 'set', hostEnd, 'up'],
    ['netns', 'exec', namespace, 'ip', 'addr', 'add', `${address}/30`, 'dev', outsideEnd],
    ['netns', 'exec', namespace, 'ip', 'link', 'set', outsideEnd, 'up'],
  ];
  const removeAll = async () => {
    await run('ip', ['link', 'del', hostEnd]).catch(() => undefined);
    await run('ip', ['netns', 'del', namespace]).catch(() => undefined);
  };
  try {
    for (const args of steps) await run('ip', args);
  } catch (error) {
    await removeAll();
    throw new Error(`could not set up the outside host (root and iproute2 are needed): ${String(error)}`, {
      cause: error,
    });
  }
  const server = spawn(
    'ip',
    [
      'netns',
      'exec',
      namespace,
      process.execPath,
      '-e',
      `require('http').createServer((q, r) => r.end(${JSON.stringify(`${body}\n`)}))` +
        `.listen(${port}, ${JSON.stringify(address)}, () => console.log('listening'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stop = async () => {
    if (server.exitCode === null) {
      server.kill();
      await once(server, 'exit');
    }
    await removeAll();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
      server.once('exit', (code) => reject(new Error(`the outside host's server exited (${code})`)));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, port, body, stop };
}
