/**
 * A deployment's instances: one container per revision and slot (`conveyor-deploy-<service>-<env>-r<revision>-<n>`)
 * on the deployment's network, its port published on 127.0.0.1 for health checks. Starting is idempotent — a
 * retried activity adopts the container an earlier attempt made — and so is removal.
 */
import type Docker from 'dockerode';
import { deployLabels, instanceName, smokeContainerName } from '../deploy/names';
import { resolveRunTimeVariables, describeMissing } from '../pipeline/run-time-variables';
import { isDockerNotFound } from './docker-errors';
import {
  deploymentLabels,
  ensureServiceNetwork,
  inspectContainer,
  removeContainer,
  type DeploymentRef,
} from './deployment-docker';
import { ImageNotFoundError, PipelineConfigError } from './errors';
import type { SecretStore } from './secrets';

/** Input of `startInstances`. */
export interface StartInstancesInput extends DeploymentRef {
  revision: number;
  version: string;
  image: string;
  /** The port the service listens on inside its container. */
  port: number;
  /** Environment; `${secrets.NAME}` is resolved here, never before. */
  env: Record<string, string>;
  /** 1-based slots to start. */
  slots: number[];
}

/** An instance as the workflow knows it. */
export interface InstanceRef {
  name: string;
  slot: number;
  /** True when an existing container was adopted rather than created. */
  adopted: boolean;
}

/** The image's id, or ImageNotFoundError when the Docker host does not have it. */
export async function imageId(docker: Docker, image: string): Promise<string> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch (error) {
    if (isDockerNotFound(error)) throw new ImageNotFoundError(image);
    throw error;
  }
}

function resolveEnvironment(env: Record<string, string>, secrets: SecretStore): string[] {
  return Object.entries(env).map(([name, template]) => {
    const secretValues: Record<string, string> = {};
    for (const match of template.matchAll(/(?<!\$)\$\{secrets\.([A-Za-z_][A-Za-z0-9_-]*)\}/g)) {
      const value = secrets.get(match[1]!);
      if (value !== undefined) secretValues[match[1]!] = value;
    }
    const resolved = resolveRunTimeVariables(template, { system: {}, secrets: secretValues });
    if (resolved.missing.length > 0) {
      throw new PipelineConfigError(`env.${name}: ${describeMissing(resolved.missing)} on this worker`, { name });
    }
    return `${name}=${resolved.text}`;
  });
}

/** Starts (or adopts) the instances of `slots`; they are running when it returns, not yet known healthy. */
export async function startInstances(
  docker: Docker,
  cluster: string | undefined,
  secrets: SecretStore,
  input: StartInstancesInput,
): Promise<InstanceRef[]> {
  const network = await ensureServiceNetwork(docker, input, cluster);
  await imageId(docker, input.image);
  const env = resolveEnvironment(input.env, secrets);
  const started: InstanceRef[] = [];
  for (const slot of input.slots) {
    const name = instanceName(input.service, input.environment, input.revision, slot);
    const existing = await inspectContainer(docker, name);
    // The same revision and slot is the same release: a running container of it is adopted as is.
    if (existing?.State.Running) {
      started.push({ name, slot, adopted: true });
      continue;
    }
    if (existing) await removeContainer(docker, name);
    const container = await docker.createContainer({
      name,
      Image: input.image,
      Env: [
        ...env,
        `CONVEYOR_SERVICE=${input.service}`,
        `CONVEYOR_ENVIRONMENT=${input.environment}`,
        `CONVEYOR_VERSION=${input.version}`,
        `CONVEYOR_REVISION=${input.revision}`,
        `CONVEYOR_INSTANCE=${slot}`,
      ],
      ExposedPorts: { [`${input.port}/tcp`]: {} },
      Labels: {
        ...deploymentLabels(input, cluster, 'instance'),
        [deployLabels.revision]: String(input.revision),
        [deployLabels.version]: input.version,
        'conveyor.slot': String(slot),
      },
      HostConfig: {
        NetworkMode: network,
        PortBindings: { [`${input.port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
        // Like a Kubernetes pod: a crashed instance is restarted; health checks see the restarts.
        RestartPolicy: { Name: 'unless-stopped' },
        SecurityOpt: ['no-new-privileges'],
        PidsLimit: 1024,
      },
    });
    await container.start();
    started.push({ name, slot, adopted: false });
  }
  return started;
}

/** Stops (with `stopSeconds` of grace) and removes instances; missing ones are fine. Returns how many went. */
export async function removeInstances(docker: Docker, names: readonly string[], stopSeconds = 2): Promise<number> {
  const removed = await Promise.all(names.map((name) => removeContainer(docker, name, stopSeconds)));
  return removed.filter(Boolean).length;
}

/** A running (or stopped) instance found on the host. */
export interface FoundInstance {
  name: string;
  revision: number;
  version: string;
  slot: number;
  running: boolean;
}

/** Every instance of a deployment on this host (any revision). */
export async function listInstances(docker: Docker, ref: DeploymentRef): Promise<FoundInstance[]> {
  const deployment = deploymentLabels(ref, undefined, 'instance');
  const containers = await docker.listContainers({
    all: true,
    filters: {
      label: [`${deployLabels.deployment}=${deployment[deployLabels.deployment]}`, `${deployLabels.role}=instance`],
    },
  });
  return containers
    .map((container) => ({
      name: (container.Names[0] ?? '').replace(/^\//, ''),
      revision: Number(container.Labels[deployLabels.revision] ?? 0),
      version: container.Labels[deployLabels.version] ?? '',
      slot: Number(container.Labels['conveyor.slot'] ?? 0),
      running: container.State === 'running',
    }))
    .sort((a, b) => a.revision - b.revision || a.slot - b.slot);
}

/** Input of `runSmoke`. */
export interface SmokeInput extends DeploymentRef {
  revision: number;
  image: string;
  script: string[];
  timeoutSeconds: number;
  /** Set in the container: where the idle colour answers (through the router's preview port). */
  previewUrl: string;
  /** Each instance's own address, `http://name:port`, space-separated in `TARGETS`. */
  targets: string[];
}

/** What a smoke test did. */
export interface SmokeResult {
  exitCode: number;
  timedOut: boolean;
  /** The last lines of its output. */
  logTail: string[];
}

/** Runs the smoke test container on the deployment's network and removes it. */
export async function runSmoke(
  docker: Docker,
  cluster: string | undefined,
  input: SmokeInput,
  signal: AbortSignal,
): Promise<SmokeResult> {
  const network = await ensureServiceNetwork(docker, input, cluster);
  await imageId(docker, input.image);
  const name = smokeContainerName(input.service, input.environment, input.revision);
  await removeContainer(docker, name);
  const container = await docker.createContainer({
    name,
    Image: input.image,
    Cmd: ['sh', '-ec', input.script.join('\n')],
    User: '1000:1000',
    Env: [`PREVIEW_URL=${input.previewUrl}`, `TARGETS=${input.targets.join(' ')}`],
    Labels: { ...deploymentLabels(input, cluster, 'smoke'), [deployLabels.revision]: String(input.revision) },
    HostConfig: { NetworkMode: network, SecurityOpt: ['no-new-privileges'], CapDrop: ['ALL'], PidsLimit: 256 },
  });
  let timedOut = false;
  const stop = () => container.kill().catch(() => undefined);
  const timer = setTimeout(() => {
    timedOut = true;
    void stop();
  }, input.timeoutSeconds * 1000);
  signal.addEventListener('abort', stop, { once: true });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = (await container.logs({ stdout: true, stderr: true, tail: 20 })) as unknown as Buffer;
    return { exitCode: StatusCode, timedOut, logTail: demultiplex(output).slice(-20) };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
    await removeContainer(docker, name);
  }
}

/** Lines of a non-TTY container log (8-byte frame headers before each chunk). */
function demultiplex(buffer: Buffer): string[] {
  const chunks: string[] = [];
  for (let offset = 0; offset + 8 <= buffer.length;) {
    const length = buffer.readUInt32BE(offset + 4);
    chunks.push(buffer.subarray(offset + 8, offset + 8 + length).toString('utf8'));
    offset += 8 + length;
  }
  return chunks.join('').split('\n').filter(Boolean);
}
