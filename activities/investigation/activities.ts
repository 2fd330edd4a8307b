/**
 * The investigation's activities (docs/investigations.md): frame, hypothesise, check (one per hypothesis, run in
 * parallel by the workflow), report, index and open. Each takes one object and returns one; each writes what it
 * produced to the artifact store, so the investigation can be audited and replayed (INC-044). Created with injected
 * clients (STYLE.md 5).
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import { causeNamed } from '../../investigate/catalogue';
import type { ArtifactProbe, Probes, RemediationAction } from '../../investigate/cause';
import { loadConfig } from '../../workers/config';
import { remediate, type RemediationResult } from './remediate';
import { conclude, rankByVerdict } from '../../investigate/conclusion';
import { hypothesise } from '../../investigate/hypothesise';
import { matchesFor } from '../../investigate/log-scan';
import type {
  CheckOutcome,
  FailureFrame,
  Hypothesis,
  IncidentSignal,
  RootCause,
  SimilarIncident,
} from '../../investigate/incident';
import type { IncidentNarrative } from '../../investigate/narrative';
import { planMarkdown, problemMarkdown, rcaMarkdown } from '../../investigate/reports';
import type { LogStore } from '../log-store';
import { formatDigest, parseDigest, type ArtifactStore } from '../store/store';
import { verifyContent } from '../artifacts/transfer';
import { frameRun } from './frame';
import { frameAlert, frameDeployment } from './frame-subjects';
import { scanStepLog } from './log-search';
import { openIncident, type OpenedIncident } from './open-incident';
import { evidenceKey, frameKey, putDocument, similarEntries, writeIndex, type IncidentIndexEntry } from './records';

/** What the investigation activities need. */
export interface InvestigationActivityDeps {
  client: Client;
  logs: LogStore;
  store: ArtifactStore;
  /** For image inspection (checks run on the Docker task queue). */
  docker: Docker;
  /** The remediation policy of a cause (default: conveyor.config.yml's `investigations.remediation`, re-read). */
  remediationPolicy?: (cause: string) => RemediationPolicy;
}

/** How a root cause's remediation is applied (docs/investigations.md, "Remediation"). */
export type RemediationPolicy = 'suggest' | 'approve' | 'auto';

/** The policy for `cause` from the configuration file, read now (so an edit applies to the next incident). */
function configuredPolicy(cause: string): RemediationPolicy {
  return loadConfig().file.investigations?.remediation?.[cause] ?? 'suggest';
}

/** How many similar past incidents a plan and a report cite at most. */
const maxSimilar = 5;

/** Creates the investigation activities. */
export function createInvestigationActivities(deps: InvestigationActivityDeps) {
  const { client, logs, store, docker } = deps;
  const policyOf = deps.remediationPolicy ?? configuredPolicy;
  const heartbeat = () => {
    try {
      Context.current().heartbeat();
    } catch {
      // Called outside an activity (tests of the functions): nothing to report to.
    }
  };

  return {
    /** Opens an incident for a signal or joins the open one (the run workflow calls it for a failed run). */
    async openIncident(request: {
      signal: IncidentSignal;
      taskQueue: string;
      investigate: boolean;
    }): Promise<OpenedIncident> {
      return openIncident(client, request);
    },

    /** Frame: facts of the failure and what changed → `Problem.md`. */
    async frameFailure(request: {
      incidentId: string;
      runId?: string;
      /** The incident's first signal: a rollout's or an alert's is framed from it (frame-subjects.ts). */
      signal?: IncidentSignal;
    }): Promise<{ frame: FailureFrame; problem: string }> {
      const { signal } = request;
      const frame = request.runId
        ? await frameRun({ client, logs }, request.runId, heartbeat)
        : signal?.kind === 'deployment'
          ? frameDeployment(signal)
          : signal
            ? await frameAlert(client, signal)
            : undefined;
      if (!frame) throw new Error(`incident ${request.incidentId}: nothing to frame (no run and no signal)`);
      await store.putRecord(frameKey(request.incidentId), frame);
      const problem = await putDocument(store, request.incidentId, {
        name: 'Problem.md',
        markdown: problemMarkdown(request.incidentId, frame),
      });
      return { frame, problem };
    },

    /** Hypothesise: similar past incidents and the ranked plan → `Plan.md`. */
    async planHypotheses(request: {
      incidentId: string;
      fingerprint: string;
      family: string;
      frame: FailureFrame;
    }): Promise<{ hypotheses: Hypothesis[]; similar: SimilarIncident[]; plan: string }> {
      const similar: SimilarIncident[] = (await similarEntries(store, request))
        .filter((entry) => entry.id !== request.incidentId)
        .map((entry) => ({
          id: entry.id,
          cause: entry.confirmedCause ?? entry.cause,
          confirmed: entry.confirmedCause !== undefined,
          at: entry.openedAt,
        }));
      similar.sort((a, b) => Number(b.confirmed) - Number(a.confirmed) || b.at.localeCompare(a.at));
      const cited = similar.slice(0, maxSimilar);
      const hypotheses = hypothesise(request.frame, cited);
      const plan = await putDocument(store, request.incidentId, {
        name: 'Plan.md',
        markdown: planMarkdown(request.incidentId, hypotheses, cited),
      });
      return { hypotheses, similar: cited, plan };
    },

    /** Test one hypothesis: gather its probes, apply its rule, store the evidence. */
    async checkHypothesis(request: { incidentId: string; cause: string; frame: FailureFrame }): Promise<CheckOutcome> {
      const module = causeNamed(request.cause);
      const { frame } = request;
      const probes: Probes = { logMatches: [], linesSearched: 0 };
      if (module.logPatterns && frame.job && !frame.deployment && !frame.alert) {
        // The frame's one pass over the log has every pattern's matches; only frames recorded before that pass
        // existed (an investigation in flight across an upgrade) make the check read the log itself.
        const scan =
          frame.logScan ??
          (await scanStepLog(
            logs,
            frame.runId,
            { job: frame.job, step: frame.step },
            { patterns: module.logPatterns, onBatch: heartbeat },
          ));
        probes.logMatches = matchesFor(scan, module.logPatterns);
        probes.linesSearched = scan.linesSearched;
      }
      if (module.dataNeeded.includes('store') && frame.inputs.length > 0) {
        probes.artifacts = await Promise.all(frame.inputs.map((input) => rehash(store, input, heartbeat)));
      }
      if (module.dataNeeded.includes('image') && frame.image) {
        probes.image = await inspectImage(docker, frame.image);
      }
      const outcome = module.decide(frame, probes);
      await store.putRecord(evidenceKey(request.incidentId, request.cause), {
        cause: request.cause,
        ...outcome,
        probes,
        rule: { pass: module.passRule, fail: module.failRule },
      });
      return outcome;
    },

    /** Report: the verdicts ranked, the root cause and its confidence → `RCA.md`. */
    async reportIncident(request: {
      incidentId: string;
      frame: FailureFrame;
      hypotheses: Hypothesis[];
      similar: SimilarIncident[];
      actions: string[];
      /** The LLM narrative or the note why there is none (docs/investigations.md); absent without an endpoint. */
      narrative?: IncidentNarrative;
    }): Promise<{
      rootCause: RootCause;
      hypotheses: Hypothesis[];
      rca: string;
      remediation: { action: RemediationAction; policy: RemediationPolicy };
    }> {
      const ranked = rankByVerdict(request.hypotheses, request.similar);
      const rootCause = conclude(request.frame, ranked);
      const action = causeNamed(rootCause.cause).action;
      const remediation = { action, policy: action === 'none' ? ('suggest' as const) : policyOf(rootCause.cause) };
      const rca = await putDocument(store, request.incidentId, {
        name: 'RCA.md',
        markdown: rcaMarkdown(
          request.incidentId,
          rootCause,
          ranked,
          request.similar,
          request.actions,
          request.narrative,
        ),
      });
      return { rootCause, hypotheses: ranked, rca, remediation };
    },

    /** Remediate: takes a safe action (a re-run) the policy allowed or a human approved. */
    async remediateIncident(request: {
      incidentId: string;
      action: RemediationAction;
      runId: string;
      job?: string;
      taskQueue: string;
    }): Promise<RemediationResult> {
      return remediate(client, loadConfig(), request);
    },

    /** Index: writes the incident's searchable summary. */
    async indexIncident(entry: IncidentIndexEntry): Promise<void> {
      await writeIndex(store, entry);
    },
  };
}

/** The investigation activities' type, for the workflow's proxies. */
export type InvestigationActivities = ReturnType<typeof createInvestigationActivities>;

/** Re-hashes one input artifact in the store, as `conveyor artifacts verify` does (streaming). */
async function rehash(
  store: ArtifactStore,
  input: FailureFrame['inputs'][number],
  heartbeat: () => void,
): Promise<ArtifactProbe> {
  const probe = { job: input.job, name: input.name, expected: input.digest };
  const check = await verifyContent(store, parseDigest(input.digest), heartbeat);
  if (check.status === 'missing') return { ...probe, status: 'missing' };
  const actual = formatDigest(check.status === 'corrupted' ? check.actual : check.digest);
  return { ...probe, status: check.status, actual, size: check.size };
}

/** Whether an image is on the Docker host (an image reference as written may still hold templates). */
async function inspectImage(docker: Docker, name: string): Promise<Probes['image']> {
  if (name.includes('${')) return undefined;
  try {
    const info = await docker.getImage(name).inspect();
    return { name, present: true, id: info.Id };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return { name, present: false };
    throw error;
  }
}
