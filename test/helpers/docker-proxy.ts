/**
 * A Docker client whose connections to the real engine can be cut, for tests of what a transient engine error does:
 * a unix-socket proxy in front of the engine's socket. `cut()` drops every open connection (a long `wait` or log
 * stream fails as if the engine had restarted); new connections work again at once.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';

/** A Docker client through a cuttable proxy. */
export interface CuttableDocker {
  docker: Docker;
  /** Drops every connection open now. */
  cut(): void;
  /** Waits until a request whose first line matches `pattern` (e.g. `/wait`) is open through the proxy. */
  waitForRequest(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Forgets the requests seen so far: idle keep-alive connections still hold their last one (call between tests). */
  forget(): void;
  close(): Promise<void>;
}

/** Starts a proxy to the engine at `/var/run/docker.sock` (or `DOCKER_HOST`'s unix socket). */
export async function cuttableDocker(): Promise<CuttableDocker> {
  const target = process.env.DOCKER_HOST?.startsWith('unix://')
    ? process.env.DOCKER_HOST.slice('unix://'.length)
    : '/var/run/docker.sock';
  const folder = await mkdtemp(path.join(tmpdir(), 'conveyor-docker-proxy-'));
  const socketPath = path.join(folder, 'docker.sock');
  const open = new Set<Socket>();
  const requests = new Map<Socket, string>();
  const server = createServer((client) => {
    const upstream = createConnection(target);
    open.add(client);
    open.add(upstream);
    // Keep-alive connections carry several requests: remember the latest request line of each.
    client.on('data', (chunk: Buffer) => {
      const line = /^[A-Z]+ \S+ HTTP\/1\.1/.exec(chunk.toString('latin1'));
      if (line) requests.set(client, line[0]);
    });
    client.pipe(upstream).pipe(client);
    const drop = () => {
      requests.delete(client);
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    docker: new Docker({ socketPath }),
    cut: () => {
      for (const socket of open) socket.destroy();
      open.clear();
      requests.clear();
    },
    forget: () => requests.clear(),
    waitForRequest: async (pattern, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (![...requests.values()].some((line) => pattern.test(line))) {
        if (Date.now() > deadline) throw new Error(`no request matching ${pattern} through the proxy`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(folder, { recursive: true, force: true });
    },
  };
}
