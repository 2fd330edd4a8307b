/** How `conveyor deploy status` and `deploy history` print a deployment for people (the JSON is the query's). */
import type { Measurement } from '../deploy/analysis';
import type { DeploymentStatus, RolloutResult } from '../workflows/deployment-messages';

function clock(iso: string | undefined): string {
  return iso ? iso.slice(11, 19) : '';
}

function left(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  return seconds >= 120 ? `${Math.round(seconds / 60)} min left` : `${seconds} s left`;
}

/** One measurement in a line: verdict, window, requests, and each metric against its condition. */
export function describeMeasurement(measurement: Measurement): string {
  const metrics = measurement.metrics
    .map(
      (metric) =>
        `${metric.name} ${metric.value ?? '–'}${metric.stable !== undefined ? ` (stable ${metric.stable ?? '–'})` : ''} [${metric.condition}] ${metric.verdict}`,
    )
    .join('; ');
  return (
    `${clock(measurement.at)} ${measurement.source.padEnd(10)} ${measurement.verdict.padEnd(12)} ` +
    `${measurement.requests.canary}/${measurement.requests.stable} req over ${measurement.window.seconds} s: ${metrics}`
  );
}

/** The status as lines of text. */
export function describeDeployment(status: DeploymentStatus, now = Date.now()): string[] {
  const lines: string[] = [];
  let headline = `${status.service} (${status.environment}): ${status.state}`;
  if (status.strategy) headline += `, ${status.strategy}`;
  if (status.step && status.rollout) {
    headline += ` at step ${status.step.index + 1}/${status.rollout.steps.length} (${status.step.description})`;
    if (status.step.until) headline += `, until ${clock(status.step.until)} (${left(status.step.until, now)})`;
  }
  if (status.held) headline += ` — held: ${status.held.reason}`;
  lines.push(headline);
  if (status.stable) {
    lines.push(
      `  stable    ${status.stable.version}  ${status.stable.image}  ${status.stable.replicas} replica(s)  ${status.weights.stable} %`,
    );
  }
  if (status.canary) {
    lines.push(
      `  new       ${status.canary.version}  ${status.canary.image}  ${status.canary.replicas} replica(s)  ${status.weights.canary} %`,
    );
  }
  if (status.retiring)
    lines.push(`  retiring  ${status.retiring.version} until ${clock(status.retiring.at)} (rollback is instant)`);
  if (status.router) {
    const preview = status.router.previewPort ? `, preview on 127.0.0.1:${status.router.previewPort}` : '';
    lines.push(`  router    ${status.router.kind} on 127.0.0.1:${status.router.port}${preview}`);
  }
  if (status.gate) {
    lines.push(
      `  gate      '${status.gate.name}': approvers ${status.gate.approvers.join(', ')}; ` +
        `${status.gate.approvedBy.length} of ${status.gate.required} approved; times out at ${clock(status.gate.deadline)}`,
    );
  }
  if (status.queue.length > 0) lines.push(`  queued    ${status.queue.map((item) => item.version).join(', ')}`);
  if (status.approvals.length > 0) {
    lines.push('  decisions:');
    for (const decision of status.approvals) {
      const comment = decision.comment ? ` "${decision.comment}"` : '';
      const reason = decision.reason ? ` (${decision.reason})` : '';
      lines.push(
        `    ${clock(decision.at)} ${decision.user} ${decision.decision} '${decision.gate}' via ${decision.channel}${comment}${reason}`,
      );
    }
  }
  if (status.analysis.length > 0) {
    lines.push(
      `  analysis (${status.analysis.length} measurement${status.analysis.length === 1 ? '' : 's'}, latest last):`,
    );
    for (const measurement of status.analysis.slice(-5)) lines.push(`    ${describeMeasurement(measurement)}`);
  }
  if (status.lastRollback) {
    lines.push(
      `  last rollback: ${status.lastRollback.version} at ${clock(status.lastRollback.at)}: ${status.lastRollback.reason}`,
    );
  }
  return lines;
}

/** One history entry in a line. */
export function describeResult(result: RolloutResult): string {
  const reason = result.reason ? `  ${result.reason}` : '';
  return `${result.startedAt.slice(0, 19)}  ${result.version.padEnd(12)} ${result.strategy.padEnd(10)} ${result.outcome.padEnd(11)} by ${result.requestedBy.user}${reason}`;
}
