/**
 * What the deployment tests share: the test service image (busybox httpd with CGI, built locally FROM
 * conveyor/busybox:latest), specs, ports from this engineer's CONVEYOR_TEST_PORTS range, traffic through a router,
 * waiting for a deployment's status, and tearing deployments down so nothing is left behind.
 */
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { pack } from 'tar-stream';
import { deployLabels, deploymentWorkflowId } from '../../deploy/names';
import { deploySchema } from '../../deploy/spec-schema';
import { toDeploySpec, type DeploySpec } from '../../deploy/spec';
import { fetchDeploymentStatus, requestRollout } from '../../client/deployments';
import {
  destroyUpdate,
  type DeploymentOptions,
  type DeploymentStatus,
  type RolloutAccepted,
} from '../../workflows/deployment-messages';
import { config, docker } from './temporal';

/** The test service's image of a version (same content for every version; behaviour comes from `env`). */
export function serviceImage(version: string): string {
  return `conveyor-test/web:${version}`;
}

const built = new Map<string, Promise<void>>();

async function tarOf(files: Record<string, { content: string; mode?: number }>): Promise<Buffer> {
  const archive = pack();
  for (const [name, file] of Object.entries(files)) archive.entry({ name, mode: file.mode ?? 0o644 }, file.content);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Builds the test service image for `version` (once per process). */
export function ensureServiceImage(version: string): Promise<void> {
  const existing = built.get(version);
  if (existing) return existing;
  const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/service', name), 'utf8');
  const building = (async () => {
    const context = await tarOf({
      Dockerfile: {
        content: [
          'FROM conveyor/busybox:latest',
          'COPY www /www',
          'USER 1000:1000',
          'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
          '',
        ].join('\n'),
      },
      'www/cgi-bin/index.cgi': { content: fixture('index.cgi'), mode: 0o755 },
      'www/cgi-bin/health': { content: fixture('health.cgi'), mode: 0o755 },
    });
    const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
      t: serviceImage(version),
      labels: { 'conveyor.test': 'deploy' },
    });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (error, output: Array<{ error?: string }>) => {
        const failed = error ?? output.find((line) => line.error)?.error;
        if (failed) reject(new Error(`building ${serviceImage(version)}: ${String(failed)}`));
        else resolve();
      }),
    );
  })();
  built.set(version, building);
  return building;
}

const taken = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port: from CONVEYOR_TEST_PORTS (`24000-24999`) when set, else one the kernel hands out. */
export async function freePort(): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.CONVEYOR_TEST_PORTS ?? '');
  if (!range) {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
  const low = Number(range[1]);
  const high = Number(range[2]);
  for (let tries = 0; tries < 500; tries += 1) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (taken.has(port)) continue;
    taken.add(port);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in CONVEYOR_TEST_PORTS=${process.env.CONVEYOR_TEST_PORTS}`);
}

/** A service name no other test uses. */
export function uniqueService(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A deploy spec for the test service: `deploy:` block fields over sensible test defaults (seconds, not minutes). */
export function testSpec(
  fields: Record<string, unknown> & { service: string; version: string; routerPort: number },
): DeploySpec {
  const { routerPort, version, ...rest } = fields;
  return toDeploySpec(
    deploySchema.parse({
      environment: 'test',
      image: serviceImage(version),
      port: 8080,
      router: { port: routerPort },
      health_check: {
        http: { path: '/cgi-bin/health', expect_body: 'ok' },
        interval: 1,
        timeout: 2,
        success_threshold: 1,
        failure_threshold: 2,
        start_timeout: 30,
      },
      ...rest,
    }),
  );
}

let requests = 0;

/** Requests a rollout of `spec` as `user`, starting the deployment workflow on `taskQueue` when needed. */
export function rollout(
  client: Client,
  taskQueue: string,
  spec: DeploySpec,
  extra: { supersede?: boolean; options?: DeploymentOptions; groups?: Record<string, string[]>; id?: string } = {},
): Promise<RolloutAccepted> {
  requests += 1;
  return requestRollout(
    client,
    {
      id: extra.id ?? `test-${spec.service}-${spec.version}-${requests}-${Date.now()}`,
      spec,
      requestedBy: { user: 'tester', channel: 'cli' },
      supersede: extra.supersede,
      groups: extra.groups,
    },
    { taskQueue, options: extra.options },
  );
}

/** Polls a deployment's status until `done` holds (or fails after `timeoutMs`, showing the last status). */
export async function waitForStatus(
  client: Client,
  service: string,
  environment: string,
  done: (status: DeploymentStatus) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<DeploymentStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: DeploymentStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await fetchDeploymentStatus(client, service, environment);
      if (done(last)) return last;
    } catch {
      // not started yet, or a worker is restarting
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last, null, 1)?.slice(0, 3000)}`);
}

/** One answer through a router. */
export interface Answer {
  /** When the request was sent and answered (ms since the epoch). */
  sent: number;
  answered: number;
  status: number;
  /** `v2`, or '' when the answer was not the service's. */
  version: string;
  body: string;
  /** A network error instead of an answer. */
  error?: string;
}

/** Sends one GET to 127.0.0.1:`port` on a fresh connection. */
export function get(port: number, headers: Record<string, string> = {}, pathname = '/'): Promise<Answer> {
  const sent = Date.now();
  return new Promise((resolve) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: pathname, headers, agent: false, timeout: 10_000 },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          resolve({
            sent,
            answered: Date.now(),
            status: response.statusCode ?? 0,
            version: /version=(\S+)/.exec(body)?.[1] ?? '',
            body,
          }),
        );
      },
    );
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', (error) =>
      resolve({ sent, answered: Date.now(), status: 0, version: '', body: '', error: error.message }),
    );
  });
}

/** Sends `count` requests, `concurrency` at a time; returns how many each version answered. */
export async function countVersions(port: number, count: number, concurrency = 8): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        const answer = await get(port);
        const key = answer.error
          ? `error:${answer.error}`
          : answer.status >= 500 && !answer.version
            ? `status:${answer.status}`
            : answer.version;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    }),
  );
  return counts;
}

/** A steady stream of requests (one at a time, `gapMs` apart) until stopped; returns every answer. */
export function steadyTraffic(port: number, gapMs = 20): { stop: () => Promise<Answer[]> } {
  const answers: Answer[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      answers.push(await get(port));
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return answers;
    },
  };
}

/**
 * Ends a deployment: destroys it through its workflow (a worker must run), then removes whatever might remain by
 * label. A workflow that does not finish within a minute is terminated.
 */
export async function destroyDeployment(client: Client, service: string, environment = 'test'): Promise<void> {
  const handle = client.workflow.getHandle(deploymentWorkflowId(service, environment));
  const destroyed = (async () => {
    await handle.executeUpdate(destroyUpdate, { args: [{ user: 'tester', channel: 'cli' }] });
    await handle.result();
  })().then(
    () => true,
    () => false,
  );
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    destroyed,
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 60_000))),
  ]);
  // A pending timer would keep the test process alive for a minute after its last test.
  clearTimeout(timer);
  if (!inTime) await handle.terminate('test cleanup').catch(() => undefined);
  await removeDeploymentResources(service, environment);
}

/** Removes every container and network labelled with the deployment. */
export async function removeDeploymentResources(service: string, environment = 'test'): Promise<void> {
  const filters = { label: [`${deployLabels.deployment}=${deploymentWorkflowId(service, environment)}`] };
  for (const container of await docker.listContainers({ all: true, filters })) {
    await docker
      .getContainer(container.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  for (const network of await docker.listNetworks({ filters })) {
    await docker
      .getNetwork(network.Id)
      .remove()
      .catch(() => undefined);
  }
  rmSync(path.join(config.prometheus.targets, `router-${service}-${environment}.json`), { force: true });
}

/** Containers and networks still labelled with the deployment. */
export async function deploymentLeftovers(service: string, environment = 'test'): Promise<string[]> {
  const filters = { label: [`${deployLabels.deployment}=${deploymentWorkflowId(service, environment)}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return [...containers.map((c) => `container ${c.Names.join(',')}`), ...networks.map((n) => `network ${n.Name}`)];
}

/** Names of the deployment's instance containers, by version. */
export async function instancesByVersion(service: string, environment = 'test'): Promise<Record<string, string[]>> {
  const containers = await docker.listContainers({
    all: true,
    filters: {
      label: [
        `${deployLabels.deployment}=${deploymentWorkflowId(service, environment)}`,
        `${deployLabels.role}=instance`,
      ],
    },
  });
  const byVersion: Record<string, string[]> = {};
  for (const container of containers) {
    const version = container.Labels[deployLabels.version] ?? '';
    (byVersion[version] ??= []).push(container.Names[0]!.replace(/^\//, ''));
  }
  return byVersion;
}

/** A canary deployment of the test service under test, in `environment`, rolled out through `taskQueue`. */
export async function canaryDeployment(client: Client, taskQueue: string, prefix: string, environment: string) {
  const service = uniqueService(prefix);
  const routerPort = await freePort();
  return {
    service,
    routerPort,
    /** Requests a canary rollout of `version` (with these canary steps, or straight to 100 %). */
    rollout: (version: string, steps?: unknown[]) =>
      rollout(
        client,
        taskQueue,
        testSpec({
          service,
          version,
          routerPort,
          environment,
          strategy: 'canary',
          ...(steps ? { canary: { steps } } : {}),
        }),
      ),
    /** Waits until the status satisfies `done`. */
    wait: (what: string, done: (status: DeploymentStatus) => boolean) =>
      waitForStatus(client, service, environment, done, what),
    /** Destroys it and checks nothing is left. */
    destroy: async () => {
      await destroyDeployment(client, service, environment);
      const left = await deploymentLeftovers(service, environment);
      if (left.length > 0) throw new Error(`deployment ${service} left ${left.join(', ')}`);
    },
  };
}
