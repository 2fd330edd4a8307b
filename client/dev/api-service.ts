/**
 * The control plane's server as a service of the embedded stack (`conveyor dev up` starts it after the worker):
 * the compiled `server/main.ts` on 127.0.0.1:$CONVEYOR_API_PORT (docs/control-plane.md).
 */
import path from 'node:path';
import type { ConveyorConfig } from '../../workers/config';
import { waitFor, type ServiceSpec } from './processes';

/** The server's address as `dev status` shows it. */
export function apiAddress(config: ConveyorConfig): { host: string; port: number } {
  return { host: config.api.host, port: config.api.port };
}

/** How to start the server and how to tell it is ready (`/healthz` answers). */
export function apiServiceSpec(config: ConveyorConfig): ServiceSpec {
  const { host, port } = apiAddress(config);
  // A wildcard address is reached through loopback.
  const probeHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    name: 'api',
    command: process.execPath,
    // Compiled like the worker (scripts/build keeps dist/ fresh; bin/conveyor builds it before `dev up` runs).
    args: [path.join(config.projectRoot, 'dist/server/main.js')],
    ports: [{ host: probeHost, port }],
    ready: () =>
      waitFor(
        'the API server',
        async () => (await fetch(`http://${probeHost}:${port}/healthz`, { signal: AbortSignal.timeout(1000) })).ok,
        60_000,
      ),
  };
}
