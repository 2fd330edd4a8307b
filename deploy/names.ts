/**
 * Deterministic names of a deployment's workflow and Docker resources (STYLE.md 9): the same service, environment,
 * revision and instance always give the same container, so a retried activity adopts what an earlier attempt made.
 *
 * Service and environment names may contain `-`, so `web-production`/`x` and `web`/`production-x` would share names;
 * the deployment workflow refuses requests for any other pair than its own, so one pair owns each name.
 */

/** Label keys on every container and network a deployment creates. */
export const deployLabels = {
  /** The deployment's workflow id, e.g. `deploy-web-production`. */
  deployment: 'conveyor.deployment',
  /** `router`, `instance` or `smoke`. */
  role: 'conveyor.role',
  revision: 'conveyor.revision',
  version: 'conveyor.version',
  /** The Temporal cluster and namespace that owns it (as for runs). */
  cluster: 'conveyor.cluster',
} as const;

/** The deployment workflow's id: `deploy-<service>-<environment>`. */
export function deploymentWorkflowId(service: string, environment: string): string {
  return `deploy-${service}-${environment}`;
}

/** Prefix shared by every Docker resource of a deployment. */
function prefix(service: string, environment: string): string {
  return `conveyor-deploy-${service}-${environment}`;
}

/** The deployment's own bridge network, shared by its router and instances. */
export function serviceNetworkName(service: string, environment: string): string {
  return `${prefix(service, environment)}-net`;
}

/** The router container. */
export function routerContainerName(service: string, environment: string): string {
  return `${prefix(service, environment)}-router`;
}

/** Instance `index` (1-based) of a revision. */
export function instanceName(service: string, environment: string, revision: number, index: number): string {
  return `${prefix(service, environment)}-r${revision}-${index}`;
}

/** A revision's smoke-test container. */
export function smokeContainerName(service: string, environment: string, revision: number): string {
  return `${prefix(service, environment)}-r${revision}-smoke`;
}
