/**
 * The incident model (docs/investigations.md): one normalised format for everything that starts an investigation —
 * a failed run, an alert — and the framed facts, hypotheses and verdicts an investigation produces. Plain JSON
 * throughout: these objects cross Temporal as workflow and activity inputs and results, and are stored as evidence.
 */
import type { DeploymentFacts } from './deployment';
import type { LogScanResult } from './log-scan';

/** What an incident is about. */
export type SubjectKind = 'run' | 'deployment' | 'alert';

/** How urgent a signal is, from the source's own severity label. */
export type Severity = 'critical' | 'warning' | 'info';

/**
 * One normalised signal (INC-011): a failed run or one alert, whatever its source. Signals with the same
 * `fingerprint` while an incident is open join that incident.
 */
export interface IncidentSignal {
  /** Where it came from: `conveyor` for runs, `alertmanager`, or a generic source's own name. */
  source: string;
  kind: SubjectKind;
  severity: Severity;
  environment?: string;
  /** Stable across repeats of the same failure (investigate/fingerprint.ts). */
  fingerprint: string;
  /** Fingerprint without the error signature: failures of the same job, step and reason class are similar. */
  family: string;
  /** One line: what happened. */
  title: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** ISO timestamps. */
  startsAt: string;
  endsAt?: string;
  links: string[];
  /** The run (or deployment and its rollout, or alert name) the signal is about. */
  subject: { run?: string; deployment?: string; rollout?: string; alert?: string };
  /** Alerts only: `firing` or `resolved`. */
  status?: 'firing' | 'resolved';
  /** Deployments only: the rollout's facts, as the deployment workflow held them (investigate/deployment.ts). */
  deployment?: DeploymentFacts;
}

/** One event on an incident's timeline. */
export interface TimelineEntry {
  at: string;
  what: string;
}

/** One line of a step's output as the investigation quotes it. */
export interface QuotedLine {
  ts: string;
  stream: 'stdout' | 'stderr';
  job: string;
  step: string;
  attempt: number;
  line: string;
  /** Its 1-based line number within its attempt's output, when the log scan counted it (investigate/log-scan.ts). */
  lineNumber?: number;
}

/** Something that differs between the failing run and the last successful run of the same pipeline. */
export interface Change {
  kind: 'definition' | 'variable' | 'input_artifact';
  /** Where: `jobs.build.steps[1].script`, `vars.NODE_VERSION`, `inputs.build/dist`. */
  path: string;
  /** The job it belongs to (definition and input changes). */
  job?: string;
  /** The step it belongs to, when it is inside one. */
  step?: string;
  before?: string;
  after?: string;
  /** True when the change can explain the failure: in the failing job at or before the failing step, or global. */
  reachesFailure?: boolean;
}

/**
 * The framed problem (INC-020…023): facts only, no guess at a cause. Produced by the frame activity from the run's
 * history, its logs and the last successful run of the same pipeline.
 */
export interface FailureFrame {
  runId: string;
  pipeline: string;
  runStatus: string;
  startedAt?: string;
  finishedAt?: string;
  /** The failing job and step (the first failed job in declaration order). */
  job?: string;
  step?: string;
  /** The failing step's attempt count and the job's. */
  attempts?: number;
  jobAttempts?: number;
  exitCode?: number;
  /** The run's reason for the failure (`exit_code`, `oom_killed`, `timed_out`, `image_not_found`, …). */
  reason?: string;
  /** The failure message for infrastructure and artifact errors (never the script's output). */
  message?: string;
  /** The failing step's image (as written) and limits. */
  image?: string;
  timeoutSeconds?: number;
  memoryBytes?: number;
  network?: string;
  /** Jobs that also failed. */
  otherFailedJobs: string[];
  /** The last lines of the failing step's output (secrets already masked by the step). */
  logExcerpt: QuotedLine[];
  /**
   * The one pass over the failing step's whole output that every check reads (investigate/log-scan.ts), without
   * its tail (that is `logExcerpt`). Absent in frames recorded before it existed: their checks search the log.
   */
  logScan?: Omit<LogScanResult, 'tail'>;
  /** Timeline of the run: job and step starts, retries and ends. */
  timeline: TimelineEntry[];
  /** The last successful run of the same pipeline, if there is one. */
  lastGreen?: { runId: string; finishedAt?: string };
  /** What changed since `lastGreen` (empty when nothing did, or when there is none). */
  changes: Change[];
  /** Steps that needed more than one attempt, and jobs more than one job attempt. */
  retries: { job: string; step?: string; attempts: number }[];
  /** Failures not caused by the script: Docker or store errors, terminated jobs. */
  infrastructure: string[];
  /** The failing job's input artifacts: upstream job, name and digest. */
  inputs: { job: string; name: string; digest: string }[];
  /** Set when the incident is a rollout's: its facts (the run fields above are then empty). */
  deployment?: DeploymentFacts;
  /** Set when the incident is an alert's: the alert and what Conveyor saw around it. */
  alert?: AlertFacts;
}

/** An alert's facts, framed: the alert as normalised, and Conveyor's own events near its start. */
export interface AlertFacts {
  source: string;
  title: string;
  severity: Severity;
  environment?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Rollouts of the alert's service (label `service`, else `job`/`app`) that ended near the alert's start. */
  rollouts: {
    deploymentId: string;
    rolloutId: string;
    version: string;
    outcome: string;
    finishedAt: string;
    reason?: string;
    incident?: string;
  }[];
  /** Whether a deployment of that service exists at all. */
  service?: string;
}

/** A hypothesis' final state (INC-043). */
export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'pending';

/** What a check's rule decided and why. */
export interface CheckOutcome {
  verdict: Exclude<Verdict, 'pending'>;
  /** How strongly a `pass` points at this cause, 0–1 (decisive facts ≈ 0.95, a log pattern alone ≈ 0.7). */
  strength: number;
  /** The decisive fact first: quoted log lines, the diff, the measurement. */
  evidence: string[];
}

/** A ranked hypothesis (INC-030, INC-031). */
export interface Hypothesis {
  cause: string;
  rank: number;
  description: string;
  testPlan: string;
  dataNeeded: string[];
  passRule: string;
  failRule: string;
  /** Why it is ranked where it is: prior from the frame, boosts from past incidents. */
  because: string[];
  verdict: Verdict;
  strength?: number;
  evidence: string[];
}

/** A past incident whose fingerprint is similar. */
export interface SimilarIncident {
  id: string;
  /** Its confirmed cause when a human resolved it, else its investigated cause. */
  cause?: string;
  confirmed: boolean;
  at: string;
}

/** The conclusion (INC-060, INC-080). */
export interface RootCause {
  cause: string;
  /** 0–1, from the verdicts (investigate/conclusion.ts). */
  confidence: number;
  summary: string;
  job?: string;
  step?: string;
  remediation: string;
  /** What a human should check, when confidence is low. */
  humanChecks: string[];
}
