/**
 * A deployment's traffic router as a container (docs/deployments.md#traffic-routers): `conveyor/node:18` running the
 * builtin proxy, or `conveyor/nginx` running nginx and its agent, on the deployment's network, with the router port
 * published on 127.0.0.1 and the admin port on an ephemeral 127.0.0.1 port. It restarts with Docker and serves its
 * last route table on its own, so traffic keeps flowing while the worker or Temporal is down. Its admin endpoint is
 * registered with the embedded Prometheus as a file_sd target.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { routerContainerName } from '../deploy/names';
import type { RouterSpec } from '../deploy/spec';
import {
  deploymentLabels,
  ensureServiceNetwork,
  inspectContainer,
  publishedPort,
  removeContainer,
  type DeploymentRef,
} from './deployment-docker';
import { RouterPortTakenError, TrafficRoutingError } from './deployment-errors';
import { routerArchive, routerBundle, routerScriptPath } from './router-code';

/** Ports inside every router container. */
export const routerPorts = { traffic: 8080, preview: 8081, admin: 9100, control: 9101 } as const;

/** Images of the two router kinds, both built locally by scripts/setup. */
export const routerImages = { builtin: 'conveyor/node:18', nginx: 'conveyor/nginx:latest' } as const;

/** The label that records what a router was created with; a different value means it must be recreated. */
const routerSettingsLabel = 'conveyor.router';

/** Input of `ensureRouter`. */
export interface EnsureRouterInput extends DeploymentRef {
  router: RouterSpec;
  /** How long nginx's old workers may take to finish requests after a reload. */
  drainSeconds: number;
}

/** Where a router's admin API answers. */
export interface RouterEndpoint {
  adminPort: number;
  /** True when this call created (or recreated) the container. */
  created: boolean;
}

/** What the router activities need. */
export interface RouterDeps {
  docker: Docker;
  cluster?: string;
  /** Where Prometheus file_sd target files are written (`<dataDir>/prometheus/targets`). */
  prometheusTargets?: string;
}

/**
 * What recreates a running router when it changes: its kind and ports. The drain time is taken when the router is
 * created and kept: a rollout that only changes `drain_timeout` must not restart the router and drop its traffic.
 */
function settingsOf(input: EnsureRouterInput): string {
  const { kind, port, previewPort } = input.router;
  return `${kind}:${port}:${previewPort ?? ''}`;
}

/** The file_sd target file of a deployment's router. */
export function routerTargetFile(targets: string, ref: DeploymentRef): string {
  return path.join(targets, `router-${ref.service}-${ref.environment}.json`);
}

function writeTarget(deps: RouterDeps, input: EnsureRouterInput, adminPort: number): void {
  if (!deps.prometheusTargets) return;
  mkdirSync(deps.prometheusTargets, { recursive: true });
  const file = routerTargetFile(deps.prometheusTargets, input);
  const target = [
    {
      targets: [`127.0.0.1:${adminPort}`],
      labels: { service: input.service, environment: input.environment, router: input.router.kind },
    },
  ];
  // Prometheus watches the directory: write the file whole, then move it into place.
  writeFileSync(`${file}.tmp`, JSON.stringify(target));
  renameSync(`${file}.tmp`, file);
}

/** Removes the router's Prometheus target. */
export function removeTarget(deps: RouterDeps, ref: DeploymentRef): void {
  if (deps.prometheusTargets) rmSync(routerTargetFile(deps.prometheusTargets, ref), { force: true });
}

async function createRouter(deps: RouterDeps, input: EnsureRouterInput, network: string): Promise<Docker.Container> {
  const { router } = input;
  const name = routerContainerName(input.service, input.environment);
  const portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {
    [`${routerPorts.traffic}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(router.port) }],
    [`${routerPorts.admin}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }],
  };
  if (router.previewPort) {
    portBindings[`${routerPorts.preview}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: String(router.previewPort) }];
  }
  const nginx = router.kind === 'nginx';
  const container = await deps.docker.createContainer({
    name,
    Image: routerImages[router.kind],
    Cmd: ['node', routerScriptPath],
    // The builtin proxy needs no privileges; nginx's master starts as root to drop to www-data for its workers.
    User: nginx ? '0:0' : '1000:1000',
    Env: [
      `ROUTER_KIND=${router.kind}`,
      `ROUTER_STATE=${nginx ? '/var/lib/conveyor-router/routes.json' : '/tmp/conveyor-router/routes.json'}`,
      `ROUTER_DRAIN_SECONDS=${input.drainSeconds}`,
      `ROUTER_TRAFFIC_PORT=${routerPorts.traffic}`,
      `ROUTER_PREVIEW_PORT=${routerPorts.preview}`,
      `ROUTER_ADMIN_PORT=${routerPorts.admin}`,
      `ROUTER_CONTROL_PORT=${routerPorts.control}`,
    ],
    ExposedPorts: Object.fromEntries(Object.keys(portBindings).map((port) => [port, {}])),
    Labels: {
      ...deploymentLabels(input, deps.cluster, 'router'),
      [routerSettingsLabel]: settingsOf(input),
      'conveyor.router.code': routerBundle().hash,
    },
    HostConfig: {
      NetworkMode: network,
      PortBindings: portBindings,
      RestartPolicy: { Name: 'unless-stopped' },
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 512,
      Memory: 512 * 1024 ** 2,
    },
  });
  await container.putArchive(await routerArchive(), { path: '/' });
  return container;
}

async function waitForAdmin(adminPort: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${adminPort}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new TrafficRoutingError(`the router's admin API did not answer within ${timeoutMs / 1000} s (${last})`);
}

/**
 * Makes sure the deployment's router runs with the wanted settings: reuses a running one, starts a stopped one,
 * recreates one made with other settings (kind, ports). Idempotent.
 */
export async function ensureRouter(deps: RouterDeps, input: EnsureRouterInput): Promise<RouterEndpoint> {
  const name = routerContainerName(input.service, input.environment);
  const network = await ensureServiceNetwork(deps.docker, input, deps.cluster);
  let info = await inspectContainer(deps.docker, name);
  let created = false;
  if (info && info.Config.Labels?.[routerSettingsLabel] !== settingsOf(input)) {
    await removeContainer(deps.docker, name);
    info = undefined;
  }
  if (!info) {
    await createRouter(deps, input, network);
    created = true;
  }
  if (!info?.State.Running) {
    try {
      await deps.docker.getContainer(name).start();
    } catch (error) {
      const message = (error as Error).message ?? '';
      if (/port is already allocated|address already in use/i.test(message)) {
        await removeContainer(deps.docker, name);
        const taken = message.includes(String(input.router.port))
          ? input.router.port
          : (input.router.previewPort ?? input.router.port);
        throw new RouterPortTakenError(taken);
      }
      if ((error as { statusCode?: number }).statusCode !== 304) throw error;
    }
    info = await inspectContainer(deps.docker, name);
  }
  const adminPort = info ? publishedPort(info, routerPorts.admin) : undefined;
  if (!adminPort) throw new TrafficRoutingError(`router ${name} has no published admin port`);
  await waitForAdmin(adminPort, 30_000);
  writeTarget(deps, input, adminPort);
  return { adminPort, created };
}
