/**
 * The causes of a rollout that rolled back or failed (docs/investigations.md, "Deployments"). Each reads the facts
 * the deployment workflow recorded — the evidence of the check that ended the rollout (the failing measurement with
 * every metric, its value, stable's value, the threshold and the window), the rollout's other measurements, the gate
 * decisions — and decides by an explicit rule, like the run causes (investigate/cause.ts). They are small, so they
 * share this file rather than one file each.
 */
import type { MetricResult } from '../deploy/analysis';
import { fail, inconclusive, pass, type CauseModule } from './cause';
import { describeChange } from './causes/config-changed';
import type { DeploymentFacts } from './deployment';
import { evidenceClass } from './deployment';
import type { CheckOutcome, FailureFrame } from './incident';

/** Metric names each regression cause covers. */
const errorMetric = /error|5xx|fail/i;
const latencyMetric = /latency|duration|p\d\d|response_time/i;

/** A metric's result as evidence: `error_rate 0.31 > max 0.05 (stable 0.0000, p=0.001)`. */
export function describeMetric(metric: MetricResult): string {
  const stable = metric.stable !== undefined ? `, stable ${metric.stable ?? 'no data'}` : '';
  const p = metric.pValue !== undefined ? `, p=${metric.pValue}` : '';
  return `${metric.name} = ${metric.value ?? 'no data'} against ${metric.condition}${stable}${p}: ${metric.reason}`;
}

/** The failing measurement's window and traffic as evidence. */
function windowFact(facts: DeploymentFacts): string | undefined {
  const measurement = facts.evidence?.measurement;
  if (!measurement) return undefined;
  return `${measurement.source} measurement over ${measurement.window.seconds}s (${measurement.window.from} → ${measurement.window.to}): ${measurement.requests.canary} requests to ${facts.release.version}, ${measurement.requests.stable} to stable`;
}

/** What the new version changed, as evidence lines. */
function changeFacts(frame: FailureFrame): string[] {
  return frame.changes
    .filter((change) => change.path !== 'version')
    .map((change) => `changed: ${describeChange(change)}`);
}

/** Facts of a deployment frame, or undefined for a run's. */
function factsOf(frame: FailureFrame): DeploymentFacts | undefined {
  return frame.deployment;
}

/**
 * A regression cause: pass when the measurement that ended the rollout failed on a metric matching `names`; the
 * new version is the one to blame when stable, measured over the same window, stayed within the condition.
 */
function regression(
  cause: string,
  names: RegExp,
  what: string,
  weight: number,
): Pick<CauseModule, 'cause' | 'prior' | 'decide' | 'weight'> {
  const failing = (facts: DeploymentFacts) =>
    (facts.evidence?.measurement?.metrics ?? []).filter(
      (metric) => metric.verdict === 'fail' && names.test(metric.name),
    );
  return {
    cause,
    weight,
    prior(frame) {
      const facts = factsOf(frame);
      if (!facts) return 0;
      if (failing(facts).length > 0) return 1;
      return evidenceClass(facts) === 'analysis' ? 0.2 : 0;
    },
    decide(frame): CheckOutcome {
      const facts = factsOf(frame);
      if (!facts) return inconclusive('not a deployment');
      const metrics = failing(facts);
      const measurements = facts.measurements.length;
      if (metrics.length === 0) {
        if (!facts.evidence?.measurement && measurements === 0) {
          return inconclusive(`no analysis measurement of ${facts.release.version} was recorded`);
        }
        const passes = facts.measurements
          .flatMap((measurement) => measurement.metrics)
          .filter((metric) => names.test(metric.name) && metric.verdict === 'pass').length;
        return fail(
          `no ${what} metric failed: the rollout ended by ${facts.evidence?.source ?? 'no check'} (${facts.reason ?? 'no reason'})`,
          `${passes} ${what} measurement(s) of ${facts.release.version} passed`,
        );
      }
      const stableFine = metrics.every(
        (metric) => metric.stable === undefined || metric.stable === null || metric.verdict === 'fail',
      );
      const evidence = [
        ...metrics.map((metric) => `${facts.release.version}: ${describeMetric(metric)}`),
        windowFact(facts) ?? '',
        `ended by ${facts.evidence?.source}: ${facts.reason ?? ''}`,
        ...changeFacts(frame),
      ].filter(Boolean);
      const earlier = facts.measurements.filter(
        (measurement) =>
          measurement.verdict === 'fail' && measurement.metrics.some((metric) => names.test(metric.name)),
      ).length;
      if (earlier > 1) evidence.push(`${earlier} of ${measurements} measurements failed on ${what}`);
      return pass(stableFine ? 0.9 : 0.75, ...evidence);
    },
  };
}

export const errorRateRegression: CauseModule = {
  ...regression('error_rate_regression', errorMetric, 'error-rate', 90),
  description: 'The new version answers more errors than its analysis allows: it regressed the error rate.',
  testPlan: "Read the failing measurement's error-rate metrics, their thresholds and stable's value in the window.",
  dataNeeded: ['history'],
  passRule: 'The measurement that ended the rollout failed on an error-rate metric.',
  failRule: 'Every error-rate measurement passed, or the rollout ended by another check.',
  remediation:
    "The rollback already sent traffic back to the previous version. Read the new version's error logs for the failing requests, fix, and roll out again.",
  action: 'none',
};

export const latencyRegression: CauseModule = {
  ...regression('latency_regression', latencyMetric, 'latency', 88),
  description: 'The new version answers slower than its analysis allows: it regressed latency.',
  testPlan: "Read the failing measurement's latency metrics, their thresholds and stable's value in the window.",
  dataNeeded: ['history'],
  passRule: 'The measurement that ended the rollout failed on a latency metric.',
  failRule: 'Every latency measurement passed, or the rollout ended by another check.',
  remediation:
    'The rollback already restored the previous version. Profile the new version under the same traffic (a slow query, a missing cache), fix, and roll out again.',
  action: 'none',
};

/** Any failing metric that is neither an error rate nor a latency (request rate, a Prometheus query). */
const otherMetric = { test: (name: string) => !errorMetric.test(name) && !latencyMetric.test(name) } as RegExp;

export const metricRegression: CauseModule = {
  ...regression('metric_regression', otherMetric, 'other', 80),
  description: 'A metric of the analysis other than errors and latency (request rate, a Prometheus query) failed.',
  testPlan: "Read the failing measurement's other metrics, their thresholds and stable's value in the window.",
  dataNeeded: ['history'],
  passRule: 'The measurement that ended the rollout failed on a metric that is neither an error rate nor a latency.',
  failRule: 'No such metric failed.',
  remediation: 'Check the metric against the new version (its query and threshold too), fix, and roll out again.',
  action: 'none',
};

/** A cause decided by the evidence's source class alone. */
function byEvidence(
  cause: string,
  kind: string,
  weight: number,
  facts: (frame: FailureFrame, deployment: DeploymentFacts) => CheckOutcome | undefined,
): Pick<CauseModule, 'cause' | 'prior' | 'decide' | 'weight'> {
  return {
    cause,
    weight,
    prior: (frame) => (frame.deployment ? (evidenceClass(frame.deployment) === kind ? 0.9 : 0.05) : 0),
    decide(frame) {
      const deployment = factsOf(frame);
      if (!deployment) return inconclusive('not a deployment');
      const decided = facts(frame, deployment);
      if (decided) return decided;
      return fail(
        `the rollout ended by ${deployment.evidence?.source ?? 'no check'}: ${deployment.reason ?? 'no reason'}`,
      );
    },
  };
}

export const healthCheckFailed: CauseModule = {
  ...byEvidence('health_check_failed', 'health', 92, (frame, facts) =>
    evidenceClass(facts) === 'health'
      ? pass(
          0.92,
          `health check of ${facts.release.version}${facts.evidence?.instance ? ` on ${facts.evidence.instance}` : ''} failed: ${facts.evidence?.detail ?? facts.reason ?? ''}`,
          `health check ${JSON.stringify(facts.release.spec.healthCheck.probe)} every ${facts.release.spec.healthCheck.intervalSeconds}s, ${facts.release.spec.healthCheck.failureThreshold} failures allowed`,
          ...changeFacts(frame),
        )
      : undefined,
  ),
  description: "The new version's instances did not become or stay healthy.",
  testPlan: "Read the health check's failure: the instance and its answer.",
  dataNeeded: ['history'],
  passRule: 'The rollout ended because a health check of the new version failed.',
  failRule: 'Health checks passed; another check ended the rollout.',
  remediation:
    "Start the new version locally with the same environment and read its output (`docker logs`); fix its start-up or the health check's path, then roll out again.",
  action: 'none',
};

function decisionsOf(facts: DeploymentFacts, decision: 'rejected' | 'timed_out') {
  return facts.approvals.filter((entry) => entry.decision === decision);
}

export const approvalRejected: CauseModule = {
  ...byEvidence('approval_rejected', 'gate', 95, (_frame, facts) => {
    const rejected = decisionsOf(facts, 'rejected');
    if (rejected.length === 0) return undefined;
    return pass(
      0.97,
      ...rejected.map(
        (entry) =>
          `gate '${entry.gate}' rejected by ${entry.user} at ${entry.at}${entry.comment ? `: ${entry.comment}` : ''}`,
      ),
    );
  }),
  description: 'A person rejected an approval gate of the rollout.',
  testPlan: "Read the gate's decisions.",
  dataNeeded: ['history'],
  passRule: 'A gate of the rollout has a rejection.',
  failRule: 'No gate was rejected.',
  remediation:
    'Ask the rejecting approver why (the comment is in the evidence), address it, and request a new rollout.',
  action: 'none',
};

export const approvalTimeout: CauseModule = {
  ...byEvidence('approval_timeout', 'gate', 94, (_frame, facts) => {
    const timedOut = decisionsOf(facts, 'timed_out');
    if (timedOut.length === 0) return undefined;
    return pass(0.95, ...timedOut.map((entry) => `gate '${entry.gate}' timed out at ${entry.at}`));
  }),
  description: 'An approval gate was not decided before its deadline.',
  testPlan: "Read the gate's decisions and deadline.",
  dataNeeded: ['history'],
  passRule: 'A gate of the rollout timed out.',
  failRule: 'No gate timed out.',
  remediation: "Reach the approvers (or lengthen the gate's timeout), then request the rollout again.",
  action: 'none',
};

export const smokeTestFailed: CauseModule = {
  ...byEvidence('smoke_test_failed', 'smoke', 93, (frame, facts) =>
    evidenceClass(facts) === 'smoke'
      ? pass(
          0.93,
          `smoke test of ${facts.release.version} failed: ${facts.evidence?.detail ?? facts.reason ?? ''}`,
          ...changeFacts(frame),
        )
      : undefined,
  ),
  description: "The new version failed the deployment's smoke test.",
  testPlan: "Read the smoke test's exit code and output.",
  dataNeeded: ['history'],
  passRule: 'The rollout ended because its smoke test failed.',
  failRule: 'No smoke test failed.',
  remediation: 'Run the smoke test against the new version, fix what it reports, and roll out again.',
  action: 'none',
};

export const manualAbort: CauseModule = {
  ...byEvidence('manual_abort', 'abort', 70, (_frame, facts) =>
    evidenceClass(facts) === 'abort'
      ? pass(
          0.9,
          `the rollout of ${facts.release.version} was aborted: ${facts.evidence?.detail ?? facts.reason ?? ''}`,
        )
      : undefined,
  ),
  description: 'A person aborted the rollout (or a newer rollout superseded it).',
  testPlan: "Read the rollout's controls.",
  dataNeeded: ['history'],
  passRule: 'The rollout ended by an abort.',
  failRule: 'Nobody aborted it.',
  remediation: 'Nothing failed by itself; ask the person who aborted it why.',
  action: 'none',
};

export const rolloutError: CauseModule = {
  cause: 'rollout_error',
  weight: 60,
  prior: (frame) => (frame.deployment ? (frame.deployment.evidence ? 0.05 : 1) : 0),
  decide(frame) {
    const facts = factsOf(frame);
    if (!facts) return inconclusive('not a deployment');
    if (!facts.evidence) {
      return pass(
        0.85,
        `the rollout of ${facts.release.version} (${facts.release.image}) ${facts.outcome} before any check: ${facts.reason ?? 'no reason'}`,
      );
    }
    return fail(`a check ended the rollout (${facts.evidence.source}), not an error of the rollout itself`);
  },
  description: 'The rollout itself failed (the image is missing, an instance did not start, the router refused it).',
  testPlan: "Read the rollout's failure reason.",
  dataNeeded: ['history', 'image'],
  passRule: 'The rollout failed without a check deciding it.',
  failRule: 'A check (analysis, health, gate, smoke test) ended the rollout.',
  remediation: 'Fix what the reason names (the image tag, the port, the Docker host), then roll out again.',
  action: 'none',
};

/** Every cause of a rolled-back or failed rollout. */
export const deploymentCauses: readonly CauseModule[] = [
  errorRateRegression,
  latencyRegression,
  metricRegression,
  healthCheckFailed,
  approvalRejected,
  approvalTimeout,
  smokeTestFailed,
  manualAbort,
  rolloutError,
];
