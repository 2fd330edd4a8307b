/**
 * The conclusion (docs/investigations.md, "Report"; INC-060, INC-080): the most probable cause from the verdicts,
 * and a confidence from them. Deterministic: the same verdicts always give the same root cause.
 *
 * Order: passing hypotheses first — a cause a human confirmed in a similar incident before others, then by
 * strength × specificity (the catalogue's `weight`) — then inconclusive ones, then failed ones. Confidence is the
 * winner's strength, less 0.05 for every other specific cause that also passed (they compete), and at most 0.3
 * when nothing passed.
 */
import { catalogueFor, causeNamed } from './catalogue';
import type { FailureFrame, Hypothesis, RootCause, SimilarIncident } from './incident';

/** Below this confidence the report asks a human to check. */
export const lowConfidence = 0.6;

/** Causes that pass alongside a more specific one without competing with it. */
const generic = new Set(['script_error', 'config_changed', 'flaky', 'error_spike', 'latency_spike', 'external']);

/** The hypotheses in final order, ranks renumbered. */
export function rankByVerdict(hypotheses: readonly Hypothesis[], similar: readonly SimilarIncident[]): Hypothesis[] {
  const confirmed = new Set(similar.filter((incident) => incident.confirmed).map((incident) => incident.cause));
  const order = { pass: 0, inconclusive: 1, pending: 2, fail: 3 };
  const score = (hypothesis: Hypothesis) =>
    (confirmed.has(hypothesis.cause) ? 1000 : 0) + (hypothesis.strength ?? 0) * causeNamed(hypothesis.cause).weight;
  return [...hypotheses]
    .sort((a, b) => order[a.verdict] - order[b.verdict] || score(b) - score(a) || a.rank - b.rank)
    .map((hypothesis, index) => ({ ...hypothesis, rank: index + 1 }));
}

/** The root cause of a frame whose hypotheses have verdicts (ranked by `rankByVerdict`). */
export function conclude(frame: FailureFrame, ranked: readonly Hypothesis[]): RootCause {
  const top = ranked[0];
  const place = { job: frame.job, step: frame.step };
  if (!top || top.verdict !== 'pass') {
    // The catch-all of the frame's catalogue (script_error for runs) when nothing is even inconclusive.
    const candidate = top?.verdict === 'inconclusive' ? top.cause : catalogueFor(frame).at(-1)!.cause;
    return {
      cause: candidate,
      confidence: 0.3,
      summary: `No hypothesis passed its check; ${candidate} is the best remaining guess.`,
      ...place,
      remediation: causeNamed(candidate).remediation,
      humanChecks: humanChecks(frame, ranked),
    };
  }
  const competing = ranked.filter(
    (hypothesis) => hypothesis !== top && hypothesis.verdict === 'pass' && !generic.has(hypothesis.cause),
  ).length;
  const confidence = Math.max(0.1, Math.round(((top.strength ?? 0.5) - 0.05 * competing) * 100) / 100);
  const module = causeNamed(top.cause);
  return {
    cause: top.cause,
    confidence,
    summary: `${module.description} ${top.evidence[0] ?? ''}`.trim(),
    ...place,
    remediation: module.remediation,
    humanChecks: confidence < lowConfidence ? humanChecks(frame, ranked) : [],
  };
}

/** What a human should look at when the evidence is thin. */
function humanChecks(frame: FailureFrame, ranked: readonly Hypothesis[]): string[] {
  const checks = frame.deployment
    ? [
        `Read the deployment's status and history: conveyor deploy status ${frame.deployment.service} --env ${frame.deployment.environment}`,
      ]
    : frame.alert
      ? [`Read the alert's links and runbook: ${frame.alert.title}`]
      : [`Read the full log: conveyor logs ${frame.runId}${frame.job ? ` --job '${frame.job}'` : ''}`];
  const open = ranked.filter((hypothesis) => hypothesis.verdict === 'inconclusive');
  for (const hypothesis of open) checks.push(`${hypothesis.cause} is inconclusive: ${hypothesis.evidence[0] ?? ''}`);
  if (!frame.lastGreen && !frame.deployment && !frame.alert)
    checks.push('No green run of this pipeline to compare with: what changed is unknown.');
  return checks;
}
