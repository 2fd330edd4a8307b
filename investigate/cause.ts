/**
 * What a cause of the catalogue is (DESIGN.md §8, docs/investigations.md "Causes"): what it needs, how it is
 * tested, its explicit pass/fail rule and its remediation. One small module per cause under `causes/`, registered
 * in `catalogue.ts`, so adding a cause is adding a file. Rules are pure functions of the framed facts and the probes
 * the check activity gathered: deterministic, so an investigation replays to the same verdicts.
 */
import type { CheckOutcome, FailureFrame, QuotedLine } from './incident';

/** The data sources a check may read (INC-041). */
export type DataSource =
  | 'exit'
  | 'logs'
  | 'definition'
  | 'variables'
  | 'artifacts'
  /** The input artifacts re-hashed in the artifact store. */
  | 'store'
  | 'image'
  | 'history';

/** One input artifact of the failing job, re-hashed in the store by the check. */
export interface ArtifactProbe {
  /** The producing job and the artifact's name. */
  job: string;
  name: string;
  /** The digest the producer recorded (`sha256:…`). */
  expected: string;
  status: 'valid' | 'corrupted' | 'missing';
  /** What the stored bytes hash to now (`sha256:…`), when they are there. */
  actual?: string;
  size?: number;
}

/** An artifact probe as evidence: `artifact 'app' of job 'build': expected sha256:…, the stored bytes hash to …`. */
export function describeArtifactProbe(probe: ArtifactProbe): string {
  const named = `artifact '${probe.name}' of job '${probe.job}'`;
  if (probe.status === 'missing') return `${named}: ${probe.expected} is not in the store`;
  if (probe.status === 'valid') return `${named}: intact, re-hashed to ${probe.expected} (${probe.size} bytes)`;
  return `${named}: expected ${probe.expected}, the stored bytes hash to ${probe.actual} (${probe.size} bytes)`;
}

/** What the check activity gathered for one cause beyond the frame. */
export interface Probes {
  /** Lines of the failing step's output matching the cause's `logPatterns`, at most a few. */
  logMatches: QuotedLine[];
  /** How many lines the search read (the whole of the failing step's output). */
  linesSearched: number;
  /** The failing job's input artifacts re-hashed in the store (causes that declare `store`). */
  artifacts?: ArtifactProbe[];
  /** The failing step's image, as inspected on the Docker host (causes that declare `image`). */
  image?: { name: string; present: boolean; id?: string };
}

/** Safe, reversible actions a remediation policy may take (docs/investigations.md, "Remediation"). */
export type RemediationAction = 'rerun_failed' | 'rerun_more_memory' | 'none';

/** One cause of the catalogue. */
export interface CauseModule {
  /** The `cause` value reports use. */
  cause: string;
  description: string;
  testPlan: string;
  dataNeeded: DataSource[];
  /** The explicit rules, in words, as Plan.md shows them. */
  passRule: string;
  failRule: string;
  /** Regular expressions (source, flags `i`) searched in the failing step's output. */
  logPatterns?: string[];
  /** Specificity: among passing causes the most specific wins (image_not_found 100 … script_error 10). */
  weight: number;
  /**
   * How likely the cause is from the frame alone, 0–1, before any check: ranks the plan. Zero leaves the cause out
   * of the plan unless a past incident confirmed it.
   */
  prior(frame: FailureFrame): number;
  /** The rule: the verdict from the frame and the probes, with the decisive fact first in the evidence. */
  decide(frame: FailureFrame, probes: Probes): CheckOutcome;
  remediation: string;
  action: RemediationAction;
}

/** Quotes a log line for evidence: `job/step#attempt:lineNumber stderr: line` (`:lineNumber` when known). */
export function quote(line: QuotedLine): string {
  const at = line.lineNumber !== undefined ? `:${line.lineNumber}` : '';
  return `${line.job}/${line.step}#${line.attempt}${at} ${line.stream}: ${line.line}`;
}

/** A pass with evidence. */
export function pass(strength: number, ...evidence: string[]): CheckOutcome {
  return { verdict: 'pass', strength, evidence };
}

/** A fail with evidence. */
export function fail(...evidence: string[]): CheckOutcome {
  return { verdict: 'fail', strength: 0, evidence };
}

/** Neither, with what is missing. */
export function inconclusive(...evidence: string[]): CheckOutcome {
  return { verdict: 'inconclusive', strength: 0, evidence };
}

/** Where the failure was, for evidence: `job 'build' step 'compile'`. */
export function where(frame: FailureFrame): string {
  return `job '${frame.job ?? '?'}'${frame.step ? ` step '${frame.step}'` : ''}`;
}

/** The exit, for evidence: `exit code 127 (command_not_found)`. */
export function exitFact(frame: FailureFrame): string {
  const code = frame.exitCode !== undefined ? `exit code ${frame.exitCode}` : 'no exit code';
  return `${where(frame)} ended with ${code}${frame.reason ? ` (${frame.reason})` : ''}`;
}

/**
 * A cause whose rule is "the run reported reason R" (decisive) or "the output matches a pattern" (supporting).
 * Most of the catalogue is this shape.
 */
export function reasonOrPattern(
  frame: FailureFrame,
  probes: Probes,
  reasons: readonly string[],
  strengths: { reason: number; pattern: number },
): CheckOutcome {
  const matches = probes.logMatches.map(quote);
  if (frame.reason && reasons.includes(frame.reason)) return pass(strengths.reason, exitFact(frame), ...matches);
  if (matches.length > 0) return pass(strengths.pattern, ...matches, exitFact(frame));
  return fail(
    `${exitFact(frame)}, not ${reasons.join('/') || 'a matching reason'}`,
    `no line of ${probes.linesSearched} searched matches`,
  );
}
