/**
 * Deterministic names for everything Conveyor creates on a Docker host (STYLE.md 9): the same run, job, step and
 * attempt always give the same container and volume names, so a retried activity finds what an earlier attempt
 * left behind instead of creating a second one.
 */
import { createHash } from 'node:crypto';

/** Label keys set on every container, volume and network Conveyor creates. */
export const labels = {
  run: 'conveyor.run',
  job: 'conveyor.job',
  step: 'conveyor.step',
  attempt: 'conveyor.attempt',
  /**
   * The Temporal cluster and namespace whose runs own the resource (`<cluster id>/<namespace>`), so a worker's
   * sweeper only ever removes what its own server knows about, even when several Conveyor installations share one
   * Docker engine.
   */
  cluster: 'conveyor.cluster',
} as const;

/** Labels for a resource of `runId`, with the owning cluster's label when it is known. */
export function ownerLabels(runId: string, cluster: string | undefined): Record<string, string> {
  return cluster ? { [labels.run]: runId, [labels.cluster]: cluster } : { [labels.run]: runId };
}

/**
 * A Docker-safe, readable and collision-free form of a name: `test (node=18)` → `test-node-18-1a2b3c`.
 * The hash suffix is added whenever characters were replaced, so distinct names never meet.
 */
export function slug(name: string): string {
  const cleaned = name
    .replace(/[^a-zA-Z0-9_.-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 60);
  if (cleaned === name && cleaned.length > 0) return cleaned;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 6);
  return cleaned ? `${cleaned}-${hash}` : hash;
}

/** The container of one step attempt (`jobAttempt` counts whole-job retries, from 1). */
export function stepContainerName(runId: string, job: string, step: string, attempt: number, jobAttempt = 1): string {
  const jobPart = jobAttempt > 1 ? `${slug(job)}-j${jobAttempt}` : slug(job);
  return `conveyor-${slug(runId)}-${jobPart}-${slug(step)}-a${attempt}`;
}

/** The workspace volume shared by the steps of one job attempt. */
export function workspaceVolumeName(runId: string, job: string, jobAttempt = 1): string {
  return `conveyor-${slug(runId)}-${slug(job)}${jobAttempt > 1 ? `-j${jobAttempt}` : ''}-ws`;
}
