/**
 * Talking to a running router's admin API (router/admin.ts): serve a new route table and confirm it is live, wait
 * for removed backends to drain, and read request samples for analysis.
 */
import type Docker from 'dockerode';
import { routerContainerName } from '../deploy/names';
import type { Backend, RouteIntent, RouteTable } from '../deploy/route-table';
import type { SampleWindow } from '../router/samples';
import { inspectContainer, networkAddress, publishedPort, type DeploymentRef } from './deployment-docker';
import { InstanceNotRunningError, RouteTableRejectedError, TrafficRoutingError } from './deployment-errors';
import { routerPorts } from './router-container';

/** The router's admin port on 127.0.0.1, looked up on the router container. */
export async function routerAdminPort(docker: Docker, ref: DeploymentRef): Promise<number> {
  const name = routerContainerName(ref.service, ref.environment);
  const info = await inspectContainer(docker, name);
  const port = info?.State.Running ? publishedPort(info, routerPorts.admin) : undefined;
  if (!port) throw new TrafficRoutingError(`the router ${name} is not running`);
  return port;
}

async function admin<T>(
  port: number,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new TrafficRoutingError(`the router's admin API failed on ${method} ${path}: ${(error as Error).message}`);
  }
  const payload = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (response.status === 422)
    throw new RouteTableRejectedError(`the router refused the routes: ${payload.error ?? ''}`);
  if (!response.ok) throw new TrafficRoutingError(`the router answered ${method} ${path} with HTTP ${response.status}`);
  return payload;
}

/** Input of `setRoutes`. */
export interface SetRoutesInput extends DeploymentRef {
  routes: RouteIntent;
}

/** What `setRoutes` did. */
export interface RoutesApplied {
  generation: number;
  /** When the router confirmed the table is live (ISO). */
  appliedAt: string;
}

/** Looks up every named instance's address and serves the table; resolves once the router serves it. */
export async function applyRoutes(docker: Docker, input: SetRoutesInput): Promise<RoutesApplied> {
  const addresses = new Map<string, string>();
  const all = [...input.routes.stable.backends, ...input.routes.canary.backends, ...input.routes.preview];
  // The router and every instance are looked up at once: a weight change waits for one Docker round trip, not two.
  const [adminPort] = await Promise.all([
    routerAdminPort(docker, input),
    ...[...new Set(all.map((backend) => backend.name))].map(async (name) => {
      const info = await inspectContainer(docker, name);
      const address = info?.State.Running ? networkAddress(info, input) : undefined;
      if (!address) throw new InstanceNotRunningError(name);
      addresses.set(name, address);
    }),
  ]);
  const resolve = (backends: RouteIntent['preview']): Backend[] =>
    backends.map((backend) => ({
      name: backend.name,
      version: backend.version,
      address: `${addresses.get(backend.name)}:${backend.port}`,
    }));
  const table: RouteTable = {
    sticky: input.routes.sticky,
    stable: { weight: input.routes.stable.weight, backends: resolve(input.routes.stable.backends) },
    canary: { weight: input.routes.canary.weight, backends: resolve(input.routes.canary.backends) },
    preview: resolve(input.routes.preview),
  };
  const { generation } = await admin<{ generation: number }>(adminPort, 'PUT', '/routes', table);
  return { generation, appliedAt: new Date().toISOString() };
}

/** What the router serves now. */
export interface RouterState {
  table: RouteTable;
  generation: number;
  /** Requests in flight by backend name (nginx: `draining` old worker processes). */
  inflight: Record<string, number>;
}

/** Reads the router's table, generation and in-flight counts. */
export async function readRoutes(docker: Docker, ref: DeploymentRef): Promise<RouterState> {
  return admin<RouterState>(await routerAdminPort(docker, ref), 'GET', '/routes');
}

/**
 * Waits until none of `names` has a request in flight (and nginx has no old worker still finishing), or
 * `timeoutSeconds` pass. Returns whether everything drained.
 */
export async function drainBackends(
  docker: Docker,
  input: DeploymentRef & { names: string[]; timeoutSeconds: number },
  signal?: AbortSignal,
): Promise<{ drained: boolean; waitedMs: number }> {
  const started = Date.now();
  const deadline = started + input.timeoutSeconds * 1000;
  const port = await routerAdminPort(docker, input);
  for (;;) {
    const { inflight } = await admin<RouterState>(port, 'GET', '/routes');
    const busy = [...input.names, 'draining'].some((name) => (inflight[name] ?? 0) > 0);
    if (!busy) return { drained: true, waitedMs: Date.now() - started };
    if (Date.now() >= deadline || signal?.aborted) return { drained: false, waitedMs: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The requests that finished in `[from, to)` (ms since the epoch). */
export async function fetchSamples(
  docker: Docker,
  ref: DeploymentRef,
  from: number,
  to: number,
): Promise<SampleWindow> {
  const port = await routerAdminPort(docker, ref);
  return admin<SampleWindow>(port, 'GET', `/samples?from=${Math.floor(from)}&to=${Math.ceil(to)}`);
}
