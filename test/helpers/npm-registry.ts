/**
 * A registry speaking npm's protocol for tests (docs/runs.md, "Networks"): it serves a packument per package
 * (`GET /<name>`) and the versions' tarballs (`GET /<name>/-/<name>-<version>.tgz`), generated here, and records every
 * request. It listens on the host's address on Docker's default bridge, which a step's container on its run's
 * egress network reaches through the host (no internet needed).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { docker } from './temporal';

/** One version of a package: its files under `package/` (package.json is written from name and version). */
export interface FixtureVersion {
  version: string;
  files: Record<string, string>;
}

/** A version as served: where its tarball is and its integrity, as a lockfile records them. */
export interface ServedVersion {
  tarball: string;
  integrity: string;
}

/** A running registry. */
export interface NpmRegistry {
  /** `http://<host>:<port>/` */
  url: string;
  /** Each package's versions as served, by name and version. */
  versions: Record<string, Record<string, ServedVersion>>;
  /** The paths requested so far, in order. */
  requests: string[];
  close: () => Promise<void>;
}

/** The gzipped tarball npm expects: every file under `package/`, with a fixed date so it is the same every time. */
async function packTarball(name: string, { version, files }: FixtureVersion): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  const all = { 'package.json': JSON.stringify({ name, version, main: 'index.js' }, null, 2), ...files };
  for (const [file, text] of Object.entries(all)) {
    archive.entry({ name: `package/${file}`, mode: 0o644, mtime: new Date('2026-01-01T00:00:00Z') }, text);
  }
  archive.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** The IPv4 address of the host on Docker's default bridge (`docker0`), which containers reach through the host. */
async function dockerHostAddress(): Promise<string> {
  const bridge = await docker.getNetwork('bridge').inspect();
  const gateway = (bridge.IPAM?.Config as { Gateway?: string }[] | undefined)?.find((c) => c.Gateway)?.Gateway;
  if (!gateway) throw new Error("Docker's default 'bridge' network has no gateway address to serve the registry on");
  return gateway;
}

/** Starts a registry serving `packages` (name → versions); `latest` is the last version listed. */
export async function startNpmRegistry(packages: Record<string, FixtureVersion[]>): Promise<NpmRegistry> {
  const host = await dockerHostAddress();
  const tarballs = new Map<string, Buffer>();
  const packuments = new Map<string, Buffer>();
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = decodeURIComponent(request.url ?? '/');
    requests.push(url);
    const body = packuments.get(url) ?? tarballs.get(url);
    if (request.method !== 'GET' || !body) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const type = packuments.has(url) ? 'application/json' : 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}/`;
  const versions: NpmRegistry['versions'] = {};
  for (const [name, list] of Object.entries(packages)) {
    versions[name] = {};
    const entries: Record<string, unknown> = {};
    for (const fixture of list) {
      const bytes = await packTarball(name, fixture);
      const file = `/${name}/-/${name}-${fixture.version}.tgz`;
      tarballs.set(file, bytes);
      const served = {
        tarball: `${url}${file.slice(1)}`,
        integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
      };
      versions[name][fixture.version] = served;
      entries[fixture.version] = {
        name,
        version: fixture.version,
        main: 'index.js',
        dist: { ...served, shasum: createHash('sha1').update(bytes).digest('hex') },
      };
    }
    const latest = list[list.length - 1]!.version;
    packuments.set(`/${name}`, Buffer.from(JSON.stringify({ name, 'dist-tags': { latest }, versions: entries })));
  }
  return {
    url,
    versions,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
