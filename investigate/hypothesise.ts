/**
 * Hypothesise (docs/investigations.md, INC-030…034): rank the catalogue's causes against the framed facts, boosted
 * by causes confirmed (or found) in past incidents with a similar fingerprint. Pure: the workflow's hypothesise
 * activity calls it, and the ranking is the same on replay.
 */
import type { CauseModule } from './cause';
import { catalogueFor } from './catalogue';
import type { FailureFrame, Hypothesis, SimilarIncident } from './incident';

/** The most hypotheses a plan tests (INC-030: a small set). */
export const maxHypotheses = 8;

/** How much a past incident's cause lifts a hypothesis: a human's confirmation weighs more than our own finding. */
const confirmedBoost = 10;
const foundBoost = 0.5;

/** The ranked hypotheses for a frame: those with a prior above zero or a past incident behind them. */
export function hypothesise(
  frame: FailureFrame,
  similar: readonly SimilarIncident[] = [],
  catalogue: readonly CauseModule[] = catalogueFor(frame),
): Hypothesis[] {
  const scored = catalogue.map((module) => {
    const prior = module.prior(frame);
    const because = [`prior ${prior.toFixed(2)} from the frame`];
    let boost = 0;
    const confirmed = similar.filter((incident) => incident.confirmed && incident.cause === module.cause);
    const found = similar.filter((incident) => !incident.confirmed && incident.cause === module.cause);
    if (confirmed.length > 0) {
      boost += confirmedBoost;
      because.push(`confirmed by a human in ${confirmed.map((incident) => incident.id).join(', ')}`);
    }
    if (found.length > 0) {
      boost += foundBoost;
      because.push(`found in ${found.map((incident) => incident.id).join(', ')}`);
    }
    return { module, score: prior + boost, prior, because };
  });
  return scored
    .filter((entry) => entry.score > 0)
    .sort((a, b) => b.score - a.score || b.module.weight - a.module.weight)
    .slice(0, maxHypotheses)
    .map((entry, index) => ({
      cause: entry.module.cause,
      rank: index + 1,
      description: entry.module.description,
      testPlan: entry.module.testPlan,
      dataNeeded: [...entry.module.dataNeeded],
      passRule: entry.module.passRule,
      failRule: entry.module.failRule,
      because: entry.because,
      verdict: 'pending' as const,
      evidence: [],
    }));
}
