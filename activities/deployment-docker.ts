/**
 * What the deployment activities share about a deployment's Docker resources: its network, its labels, and where a
 * container can be reached — by the router on the deployment's network, by the worker on a port published on
 * 127.0.0.1.
 */
import type Docker from 'dockerode';
import { deployLabels, deploymentWorkflowId, serviceNetworkName } from '../deploy/names';
import { isDockerNotFound } from './docker-errors';

/** Identifies one deployment. */
export interface DeploymentRef {
  service: string;
  environment: string;
}

/** Labels every resource of a deployment carries. */
export function deploymentLabels(
  ref: DeploymentRef,
  cluster: string | undefined,
  role: string,
): Record<string, string> {
  const base: Record<string, string> = {
    [deployLabels.deployment]: deploymentWorkflowId(ref.service, ref.environment),
    [deployLabels.role]: role,
  };
  if (cluster) base[deployLabels.cluster] = cluster;
  return base;
}

/** Creates the deployment's bridge network when missing (idempotent); returns its name. */
export async function ensureServiceNetwork(
  docker: Docker,
  ref: DeploymentRef,
  cluster: string | undefined,
): Promise<string> {
  const name = serviceNetworkName(ref.service, ref.environment);
  const existing = await docker.listNetworks({ filters: { name: [name] } });
  if (existing.some((network) => network.Name === name)) return name;
  try {
    await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: deploymentLabels(ref, cluster, 'network') });
  } catch (error) {
    // Another activity attempt created it in the meantime.
    if ((error as { statusCode?: number }).statusCode !== 409) throw error;
  }
  return name;
}

/** A container's state, or undefined when there is no such container. */
export async function inspectContainer(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (error) {
    if (isDockerNotFound(error)) return undefined;
    throw error;
  }
}

/** The container's address on the deployment's network. */
export function networkAddress(info: Docker.ContainerInspectInfo, ref: DeploymentRef): string | undefined {
  const network = info.NetworkSettings.Networks[serviceNetworkName(ref.service, ref.environment)];
  return network?.IPAddress || undefined;
}

/** The 127.0.0.1 port a container port is published on. */
export function publishedPort(info: Docker.ContainerInspectInfo, containerPort: number): number | undefined {
  const bindings = info.NetworkSettings.Ports?.[`${containerPort}/tcp`];
  const port = bindings?.find((binding) => binding.HostIp === '127.0.0.1' || binding.HostIp === '0.0.0.0')?.HostPort;
  return port ? Number(port) : undefined;
}

/** Removes a container (stopping it first, with `stopSeconds` of grace); a missing one is fine. */
export async function removeContainer(docker: Docker, name: string, stopSeconds = 0): Promise<boolean> {
  const container = docker.getContainer(name);
  try {
    if (stopSeconds > 0) await container.stop({ t: stopSeconds }).catch(() => undefined);
    await container.remove({ force: true, v: true });
    return true;
  } catch (error) {
    if (isDockerNotFound(error)) return false;
    // Already being removed by someone else.
    if ((error as { statusCode?: number }).statusCode === 409) return false;
    throw error;
  }
}

/** Resolves after `ms`, or rejects when `signal` aborts first. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
