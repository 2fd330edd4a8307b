/**
 * The three documents of an investigation (docs/investigations.md; INC-023, INC-034, INC-051): `Problem.md` (facts,
 * no guess), `Plan.md` (ranked hypotheses with their tests and rules) and `RCA.md` (the conclusion with its
 * evidence). Pure rendering of structured results; secrets never reach them because the log lines they quote were
 * masked by the step and variable values with secret-like names are hidden (investigate/changes.ts).
 */
import { describeChange } from './causes/config-changed';
import { quote } from './cause';
import { describeMetric } from './deployment-causes';
import type { DeploymentFacts } from './deployment';
import type { AlertFacts, FailureFrame, Hypothesis, RootCause, SimilarIncident } from './incident';
import { narrativeMarkdown, type IncidentNarrative } from './narrative';

/** Markdown inline code that survives backticks in the text. */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

/** `Problem.md`: what failed, where, when, and what changed since the last green run. */
export function problemMarkdown(incidentId: string, frame: FailureFrame): string {
  if (frame.deployment) return deploymentProblem(incidentId, frame, frame.deployment);
  if (frame.alert) return alertProblem(incidentId, frame, frame.alert);
  const lines = [
    `# Problem: ${incidentId}`,
    '',
    `Run ${code(frame.runId)} of pipeline ${code(frame.pipeline)} ended ${frame.runStatus}.`,
    '',
    '## Failure',
    '',
    `- job: ${frame.job ?? '(none)'}`,
    `- step: ${frame.step ?? '(none)'}`,
    `- attempts: step ${frame.attempts ?? '-'}, job ${frame.jobAttempts ?? '-'}`,
    `- exit code: ${frame.exitCode ?? '(none)'}`,
    `- reason: ${frame.reason ?? '(none)'}`,
    ...(frame.message ? [`- message: ${frame.message}`] : []),
    ...(frame.image ? [`- image: ${frame.image}`] : []),
    ...(frame.otherFailedJobs.length ? [`- other failed jobs: ${frame.otherFailedJobs.join(', ')}`] : []),
    '',
    '## Log excerpt',
    '',
    ...(frame.logExcerpt.length ? ['```', ...frame.logExcerpt.map(quote), '```'] : ['(no output)']),
    '',
    '## What changed since the last successful run',
    '',
  ];
  if (!frame.lastGreen) {
    lines.push('No successful run of this pipeline to compare with.');
  } else if (frame.changes.length === 0) {
    lines.push(`Nothing: definition, variables and input artifacts are as in ${code(frame.lastGreen.runId)}.`);
  } else {
    lines.push(
      `Compared with ${code(frame.lastGreen.runId)}${frame.lastGreen.finishedAt ? ` (${frame.lastGreen.finishedAt})` : ''}:`,
      '',
    );
    for (const change of frame.changes) lines.push(`- ${change.kind}: ${code(describeChange(change))}`);
  }
  lines.push('', '## Retries', '');
  lines.push(
    ...(frame.retries.length
      ? frame.retries.map(
          (retry) => `- ${retry.job}${retry.step ? ` / ${retry.step}` : ''}: ${retry.attempts} attempts`,
        )
      : ['None.']),
  );
  lines.push('', '## Infrastructure events', '');
  lines.push(...(frame.infrastructure.length ? frame.infrastructure.map((event) => `- ${event}`) : ['None recorded.']));
  lines.push('', '## Timeline', '');
  lines.push(...frame.timeline.map((entry) => `- ${entry.at} ${entry.what}`));
  return `${lines.join('\n')}\n`;
}

/** `Plan.md`: the ranked hypotheses, each with its test plan, data and pass/fail rules. */
export function planMarkdown(
  incidentId: string,
  hypotheses: readonly Hypothesis[],
  similar: readonly SimilarIncident[],
): string {
  const lines = [`# Plan: ${incidentId}`, ''];
  if (similar.length > 0) {
    lines.push('## Similar past incidents', '');
    for (const incident of similar) {
      lines.push(
        `- ${incident.id} (${incident.at}): ${incident.cause ?? 'unknown'}${incident.confirmed ? ' — confirmed' : ''}`,
      );
    }
    lines.push('');
  }
  lines.push('## Hypotheses', '');
  for (const hypothesis of hypotheses) {
    lines.push(
      `### ${hypothesis.rank}. ${hypothesis.cause}`,
      '',
      hypothesis.description,
      '',
      `- test: ${hypothesis.testPlan}`,
      `- data: ${hypothesis.dataNeeded.join(', ')}`,
      `- pass if: ${hypothesis.passRule}`,
      `- fail if: ${hypothesis.failRule}`,
      `- ranked because: ${hypothesis.because.join('; ')}`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `RCA.md`: the root cause, confidence, evidence, remediation, similar incidents and every verdict; with an LLM
 * configured, its narrative (or the one-line note why there is none) after the human checks.
 */
export function rcaMarkdown(
  incidentId: string,
  rootCause: RootCause,
  hypotheses: readonly Hypothesis[],
  similar: readonly SimilarIncident[],
  actions: readonly string[] = [],
  narrative?: IncidentNarrative,
): string {
  const top = hypotheses.find((hypothesis) => hypothesis.cause === rootCause.cause);
  const lines = [
    `# Root cause: ${incidentId}`,
    '',
    `**${rootCause.cause}** (confidence ${rootCause.confidence.toFixed(2)})${rootCause.job ? ` in job ${code(rootCause.job)}` : ''}${rootCause.step ? `, step ${code(rootCause.step)}` : ''}`,
    '',
    rootCause.summary,
    '',
    '## Evidence',
    '',
    ...(top?.evidence.length ? top.evidence.map((line) => `- ${code(line)}`) : ['- (none)']),
    '',
    '## Remediation',
    '',
    rootCause.remediation,
    ...(actions.length ? ['', ...actions.map((action) => `- ${action}`)] : []),
    '',
  ];
  if (rootCause.humanChecks.length > 0) {
    lines.push('## What a human should check', '', ...rootCause.humanChecks.map((check) => `- ${check}`), '');
  }
  if (narrative) lines.push(...narrativeMarkdown(narrative));
  lines.push('## Similar past incidents', '');
  lines.push(
    ...(similar.length
      ? similar.map(
          (incident) =>
            `- ${incident.id} (${incident.at}): ${incident.cause ?? 'unknown'}${incident.confirmed ? ' — confirmed' : ''}`,
        )
      : ['None.']),
  );
  lines.push('', '## Verdicts', '', '| rank | cause | verdict | evidence |', '|---|---|---|---|');
  for (const hypothesis of hypotheses) {
    const evidence = (hypothesis.evidence[0] ?? '').replace(/\|/g, '\\|');
    lines.push(`| ${hypothesis.rank} | ${hypothesis.cause} | ${hypothesis.verdict} | ${evidence} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** The timeline and changes sections every problem ends with. */
function changesAndTimeline(frame: FailureFrame, against: string): string[] {
  const lines = ['', `## What changed ${against}`, ''];
  if (frame.changes.length === 0) lines.push('Nothing recorded.');
  for (const change of frame.changes) lines.push(`- ${change.kind}: ${code(describeChange(change))}`);
  lines.push('', '## Timeline', '', ...frame.timeline.map((entry) => `- ${entry.at} ${entry.what}`));
  return lines;
}

/** `Problem.md` of a rollout: what ended it, the measurement with its metrics and window, what the version changed. */
function deploymentProblem(incidentId: string, frame: FailureFrame, facts: DeploymentFacts): string {
  const measurement = facts.evidence?.measurement;
  const lines = [
    `# Problem: ${incidentId}`,
    '',
    `Rollout ${code(facts.rolloutId)} of ${code(facts.service)} ${code(facts.release.version)} to ${code(facts.environment)} ended ${facts.outcome}.`,
    '',
    '## Failure',
    '',
    `- strategy: ${facts.strategy}`,
    `- image: ${facts.release.image}`,
    `- previous version: ${facts.previous ? `${facts.previous.version} (${facts.previous.image})` : '(none)'}`,
    `- ended by: ${facts.evidence?.source ?? '(no check)'}`,
    `- reason: ${facts.reason ?? '(none)'}`,
    ...(facts.evidence?.instance ? [`- instance: ${facts.evidence.instance}`] : []),
    ...(facts.evidence?.detail ? [`- detail: ${facts.evidence.detail}`] : []),
    `- requested by: ${facts.requestedBy}`,
  ];
  if (measurement) {
    lines.push(
      '',
      '## The measurement that ended it',
      '',
      `${measurement.source}, window ${measurement.window.from} → ${measurement.window.to} (${measurement.window.seconds}s), ${measurement.requests.canary} requests to the new version and ${measurement.requests.stable} to stable; verdict ${measurement.verdict}.`,
      '',
      '| metric | value | stable | condition | verdict |',
      '|---|---|---|---|---|',
      ...measurement.metrics.map(
        (metric) =>
          `| ${metric.name} | ${metric.value ?? 'no data'} | ${metric.stable ?? '-'} | ${metric.condition} | ${metric.verdict} |`,
      ),
    );
  }
  lines.push('', '## Analysis measurements of the rollout', '');
  lines.push(
    ...(facts.measurements.length
      ? facts.measurements.map(
          (entry) => `- ${entry.at} ${entry.source} ${entry.verdict}: ${entry.metrics.map(describeMetric).join('; ')}`,
        )
      : ['None.']),
  );
  if (facts.approvals.length > 0) {
    lines.push('', '## Gate decisions', '');
    lines.push(
      ...facts.approvals.map((entry) => `- ${entry.at} gate '${entry.gate}' ${entry.decision} by ${entry.user}`),
    );
  }
  lines.push(...changesAndTimeline(frame, `since ${facts.previous?.version ?? 'the previous version'}`));
  return `${lines.join('\n')}\n`;
}

/** `Problem.md` of an alert: the alert as received and what Conveyor did around it. */
function alertProblem(incidentId: string, frame: FailureFrame, alert: AlertFacts): string {
  const lines = [
    `# Problem: ${incidentId}`,
    '',
    `Alert ${code(alert.title)} from ${alert.source} (${alert.severity}${alert.environment ? `, ${alert.environment}` : ''}) started ${alert.startsAt}.`,
    '',
    '## Labels',
    '',
    ...Object.entries(alert.labels).map(([name, value]) => `- ${name}: ${value}`),
    '',
    '## Annotations',
    '',
    ...(Object.keys(alert.annotations).length
      ? Object.entries(alert.annotations).map(([name, value]) => `- ${name}: ${value}`)
      : ['None.']),
    '',
    `## Rollouts of ${alert.service ?? '(no service label)'} near its start`,
    '',
    ...(alert.rollouts.length
      ? alert.rollouts.map(
          (rollout) =>
            `- ${rollout.finishedAt} ${rollout.version} ${rollout.outcome} (${rollout.deploymentId}, ${rollout.rolloutId})`,
        )
      : ['None.']),
  ];
  if (frame.infrastructure.length > 0)
    lines.push('', '## Infrastructure events', '', ...frame.infrastructure.map((e) => `- ${e}`));
  lines.push('', '## Timeline', '', ...frame.timeline.map((entry) => `- ${entry.at} ${entry.what}`));
  return `${lines.join('\n')}\n`;
}
