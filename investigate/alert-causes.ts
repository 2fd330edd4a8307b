/**
 * The causes of an alert (docs/investigations.md, "Alerts"). An alert comes from outside Conveyor, so what an
 * investigation can test is what Conveyor itself knows around the alert's start — a rollout of the alerting service
 * — and what the alert says of itself (its name, labels and annotations). Each rule is explicit, like the run
 * causes (investigate/cause.ts); the last cause is the catch-all.
 */
import { fail, inconclusive, pass, type CauseModule, type DataSource } from './cause';
import type { AlertFacts, CheckOutcome, FailureFrame } from './incident';

/** How long before an alert's start a rollout counts as its likely cause. */
export const recentRolloutMinutes = 30;

/** The alert's own words: name, summary, description and labels, for pattern rules. */
function alertText(alert: AlertFacts): string {
  return [
    alert.title,
    ...Object.entries(alert.labels).map(([k, v]) => `${k}=${v}`),
    ...Object.values(alert.annotations),
  ].join(' ');
}

function alertOf(frame: FailureFrame): AlertFacts | undefined {
  return frame.alert;
}

const data: DataSource[] = ['history'];

/** A cause whose rule is "the alert's words match this pattern". */
function byWords(
  cause: string,
  words: RegExp,
  weight: number,
  text: { description: string; remediation: string; what: string },
): CauseModule {
  return {
    cause,
    weight,
    description: text.description,
    testPlan: `Match the alert's name, labels and annotations against ${text.what} terms.`,
    dataNeeded: data,
    passRule: `The alert names ${text.what} (${words.source}).`,
    failRule: `Nothing in the alert names ${text.what}.`,
    prior: (frame) => (frame.alert ? (words.test(alertText(frame.alert)) ? 0.7 : 0.05) : 0),
    decide(frame): CheckOutcome {
      const alert = alertOf(frame);
      if (!alert) return inconclusive('not an alert');
      const said = [alert.title, ...Object.values(alert.annotations)].find((line) => words.test(line));
      const label = Object.entries(alert.labels).find(([name, value]) => words.test(`${name}=${value}`));
      if (said || label) {
        return pass(0.6, said ? `the alert says: ${said}` : `label ${label![0]}=${label![1]}`);
      }
      return fail(`the alert '${alert.title}' does not name ${text.what}`);
    },
    remediation: text.remediation,
    action: 'none',
  };
}

export const recentDeployment: CauseModule = {
  cause: 'recent_deployment',
  weight: 90,
  description: 'A rollout of the alerting service ended shortly before the alert started: the new version is suspect.',
  testPlan: `List the rollouts of the alert's service that ended in the ${recentRolloutMinutes} minutes before it started.`,
  dataNeeded: data,
  passRule: `A rollout of the service ended within ${recentRolloutMinutes} minutes before the alert started.`,
  failRule: 'The service has deployments, but none ended near the alert.',
  prior: (frame) => (frame.alert ? (frame.alert.rollouts.length > 0 ? 0.9 : frame.alert.service ? 0.2 : 0) : 0),
  decide(frame) {
    const alert = alertOf(frame);
    if (!alert) return inconclusive('not an alert');
    if (!alert.service) return inconclusive('the alert names no service (label service, app or job)');
    const [latest] = [...alert.rollouts].sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
    if (!latest) {
      return fail(
        `no rollout of ${alert.service} ended in the ${recentRolloutMinutes} minutes before ${alert.startsAt}`,
      );
    }
    const minutes = Math.max(0, (Date.parse(alert.startsAt) - Date.parse(latest.finishedAt)) / 60_000);
    const evidence = alert.rollouts.map(
      (rollout) =>
        `rollout ${rollout.rolloutId} of ${alert.service} ${rollout.version} ${rollout.outcome} at ${rollout.finishedAt}${rollout.reason ? ` (${rollout.reason})` : ''}${rollout.incident ? ` — incident ${rollout.incident}` : ''}`,
    );
    evidence.unshift(
      `${alert.service} ${latest.version} ${latest.outcome} ${minutes.toFixed(1)} min before the alert started (${alert.startsAt})`,
    );
    return pass(latest.outcome === 'complete' ? 0.85 : 0.65, ...evidence);
  },
  remediation:
    'Roll the service back (`conveyor deploy rollback SERVICE --env ENV`) and compare the versions; the evidence names the rollout.',
  action: 'none',
};

export const errorSpike = byWords('error_spike', /error|5xx|fail|exception/i, 70, {
  description: 'The service answers errors (the alert is about an error rate or failures).',
  remediation: "Read the service's error logs for the alert's window; if a rollout preceded it, roll back.",
  what: 'errors',
});

export const latencySpike = byWords('latency_spike', /latency|slow|duration|p9\d|timeout/i, 68, {
  description: 'The service answers slowly (the alert is about latency or timeouts).',
  remediation: 'Look for saturation (CPU, connections, a slow dependency) in the alert window.',
  what: 'latency',
});

export const resourceExhaustion = byWords(
  'resource_exhaustion',
  /memory|oom|disk|filesystem|space|cpu|quota|inode/i,
  75,
  {
    description: 'A resource ran out (memory, disk, CPU, a quota).',
    remediation: 'Free or grow the resource the alert names; find what consumed it.',
    what: 'a resource',
  },
);

export const serviceDown = byWords('service_down', /down|unreachable|unavailable|health|up\b|absent|dead/i, 72, {
  description: 'The service or its target is down or failing its health checks.',
  remediation: "Check the service's instances (`conveyor deploy status`) and restart or roll back.",
  what: 'a service down',
});

export const external: CauseModule = {
  cause: 'external',
  weight: 5,
  description: 'Nothing Conveyor knows explains the alert: the cause is outside it.',
  testPlan: "Check that no rollout of the alert's service and nothing in the alert points at a known cause.",
  dataNeeded: data,
  passRule: 'No rollout of the service ended near the alert.',
  failRule: 'A rollout of the service ended near the alert.',
  prior: (frame) => (frame.alert ? 0.1 : 0),
  decide(frame) {
    const alert = alertOf(frame);
    if (!alert) return inconclusive('not an alert');
    if (alert.rollouts.length > 0) return fail(`${alert.rollouts.length} rollout(s) of ${alert.service} ended near it`);
    return pass(0.3, `no rollout of ${alert.service ?? 'any named service'} near ${alert.startsAt}`);
  },
  remediation: "Follow the alert's runbook and links; Conveyor saw nothing of its own around it.",
  action: 'none',
};

/** Every cause of an alert; the catch-all last. */
export const alertCauses: readonly CauseModule[] = [
  recentDeployment,
  resourceExhaustion,
  serviceDown,
  errorSpike,
  latencySpike,
  external,
];
