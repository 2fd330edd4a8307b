/**
 * Deployment incidents (docs/investigations.md, "Deployments"): a rollout that rolled back or failed becomes an
 * incident signal carrying the facts the deployment workflow already holds — the outcome, the reason, the evidence
 * of the check that failed (the measurement with every metric, value, threshold and window), the analysis
 * measurements of the rollout, the gate decisions and what changed against the version it replaced. Pure: the
 * deployment workflow builds the signal, so the investigation needs no query of a deployment that may be gone.
 */
import type { Measurement } from '../deploy/analysis';
import type { GateDecision } from '../deploy/approvals';
import type { Evidence, RolloutOutcome } from '../deploy/rollout-machine';
import type { DeploySpec } from '../deploy/spec';
import { shownValue } from './changes';
import { shortHash } from './fingerprint';
import type { Change, IncidentSignal } from './incident';

/** A release as the incident sees it. */
export interface DeployedRelease {
  version: string;
  image: string;
  replicas: number;
  spec: DeploySpec;
}

/** Everything an investigation of a rollout needs, built by the deployment workflow when the rollout ends. */
export interface DeploymentFacts {
  /** The deployment workflow (`deploy-<service>-<environment>`). */
  deploymentId: string;
  rolloutId: string;
  service: string;
  environment: string;
  strategy: string;
  outcome: RolloutOutcome;
  reason?: string;
  evidence?: Evidence;
  release: DeployedRelease;
  /** The version that ran before (the one rolled back to), if any. */
  previous?: DeployedRelease;
  /** The rollout's analysis measurements, oldest first (at most the last 20). */
  measurements: Measurement[];
  approvals: GateDecision[];
  requestedBy: string;
  startedAt: string;
  finishedAt: string;
}

/** How many measurements a signal carries. */
const maxMeasurements = 20;

/** The class of check that ended a rollout, from its evidence source: `analysis`, `health`, `gate`, … */
export function evidenceClass(facts: Pick<DeploymentFacts, 'evidence' | 'reason'>): string {
  const source = facts.evidence?.source ?? '';
  if (/analysis/.test(source)) return 'analysis';
  if (/health/.test(source)) return 'health';
  if (/gate|approval/.test(source)) return 'gate';
  if (/smoke/.test(source)) return 'smoke';
  if (/abort/.test(source)) return 'abort';
  return source ? 'other' : 'error';
}

/** The metrics that failed the measurement in the evidence, sorted. */
export function failingMetrics(evidence: Evidence | undefined): string[] {
  return (evidence?.measurement?.metrics ?? [])
    .filter((metric) => metric.verdict === 'fail')
    .map((metric) => metric.name)
    .sort();
}

/** What differs between the release that ran before and the new one: image, replicas, environment, health check. */
export function releaseChanges(previous: DeployedRelease | undefined, release: DeployedRelease): Change[] {
  if (!previous) return [];
  const changes: Change[] = [];
  const field = (path: string, before: string, after: string) => {
    if (before !== after) changes.push({ kind: 'definition', path, before, after, reachesFailure: true });
  };
  field('version', previous.version, release.version);
  field('image', previous.image, release.image);
  field('replicas', String(previous.replicas), String(release.replicas));
  field('strategy', previous.spec.strategy, release.spec.strategy);
  field('health_check', JSON.stringify(previous.spec.healthCheck), JSON.stringify(release.spec.healthCheck));
  const names = [...new Set([...Object.keys(previous.spec.env), ...Object.keys(release.spec.env)])].sort();
  for (const name of names) {
    const before = previous.spec.env[name];
    const after = release.spec.env[name];
    if (before === after) continue;
    changes.push({
      kind: 'variable',
      path: `env.${name}`,
      before: shownValue(name, before),
      after: shownValue(name, after),
      reachesFailure: true,
    });
  }
  return changes;
}

/**
 * The incident signal of a rollout that did not complete. Its fingerprint is the service, environment, the class
 * of the failing check, the failing metrics and the version: the same version failing the same way again joins the
 * open incident; another version failing the same way is similar (its family).
 */
export function deploymentSignal(facts: DeploymentFacts): IncidentSignal {
  const family = shortHash(
    [
      'deployment',
      facts.service,
      facts.environment,
      evidenceClass(facts),
      failingMetrics(facts.evidence).join(','),
    ].join('\u0000'),
  );
  const fingerprint = shortHash(`${family}\u0000${facts.release.version}`);
  const title = `deployment ${facts.service}/${facts.environment} ${facts.release.version} ${facts.outcome}: ${
    facts.reason ?? 'no reason given'
  }`.slice(0, 300);
  return {
    source: 'conveyor',
    kind: 'deployment',
    severity: facts.environment === 'production' || facts.environment === 'prod' ? 'critical' : 'warning',
    environment: facts.environment,
    fingerprint,
    family,
    title,
    labels: {
      service: facts.service,
      environment: facts.environment,
      version: facts.release.version,
      outcome: facts.outcome,
    },
    annotations: facts.reason ? { reason: facts.reason } : {},
    startsAt: facts.finishedAt,
    links: [],
    subject: { deployment: facts.deploymentId, rollout: facts.rolloutId },
    deployment: { ...facts, measurements: facts.measurements.slice(-maxMeasurements) },
  };
}
