/**
 * A deploy job inside a pipeline run (docs/deployments.md#the-deploy-job): instead of steps, the job hands its
 * rollout to the long-lived deployment workflow of the service and environment and waits for the
 * `rolloutFinished` signal that workflow sends back. The job ends `success` when the new version is fully live, and
 * `failed` with reason `rolled_back` (and the evidence in its message) or `deploy_failed` otherwise. The request id
 * is `<run id>/<job>`, so a retried request is accepted once. Cancelling the run or the job's timeout ends the job
 * but not the rollout, which carries on (stop it with `conveyor deploy abort`).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createDeployJobActivities } from '../activities/deploy-job';
import { deploymentWorkflowId } from '../deploy/names';
import type { Evidence } from '../deploy/rollout-machine';
import { startDeadline } from './deadline';
import { artifactHooks, verifyDeployInputs } from './job-artifacts';
import { buildDeployImage } from './deploy-image-build';
import { rolloutFinishedSignal, type RolloutResult } from './deployment-messages';
import type { JobInput } from './job-runner';
import type { JobState } from './pipeline-run-messages';

/** Results of this workflow's deploy jobs, by request id (one handler serves every deploy job of the workflow). */
const finished = new Map<string, RolloutResult>();
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  setHandler(rolloutFinishedSignal, (result) => {
    finished.set(result.id, result);
  });
}

function deployActivities() {
  return proxyActivities<ReturnType<typeof createDeployJobActivities>>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  });
}

/** One line about what made a rollout roll back: the check, and the failing metric's values when there is one. */
export function describeEvidence(evidence: Evidence | undefined): string {
  if (!evidence) return '';
  const parts = [evidence.source];
  const measurement = evidence.measurement;
  for (const metric of measurement?.metrics.filter((m) => m.verdict === 'fail') ?? []) {
    const stable = metric.stable === undefined ? '' : ` vs stable ${metric.stable ?? 'n/a'}`;
    parts.push(`${metric.name} ${metric.value ?? 'n/a'}${stable} (${metric.condition}): ${metric.reason}`);
  }
  if (measurement) {
    parts.push(`window ${measurement.window.seconds} s, ${measurement.requests.canary} requests to the new version`);
  }
  if (evidence.instance) parts.push(evidence.instance);
  if (evidence.detail && !evidence.measurement) parts.push(evidence.detail);
  return parts.join('; ');
}

/** Runs a deploy job to a final state; throws only when the job is cancelled (like runJob). */
export async function runDeployJob(input: JobInput, state: JobState): Promise<void> {
  const { job, runId } = input;
  let spec = job.deploy!;
  const id = `${runId}/${job.name}`;
  Object.assign(state, { status: 'running', attempts: 1, startedAt: new Date().toISOString(), steps: [] });
  state.deployment = {
    workflowId: deploymentWorkflowId(spec.service, spec.environment),
    service: spec.service,
    environment: spec.environment,
    version: spec.version,
    requestId: id,
  };
  // The job's input artifacts are verified before the rollout is requested, so a corrupted one changes no replica.
  if (artifactHooks.downloads(input) && !(await verifyDeployInputs(input, state))) {
    state.finishedAt = new Date().toISOString();
    return;
  }
  // `build_image:` builds the image from a verified input artifact; the rollout deploys that image by id.
  if (spec.buildImage) {
    const built = await buildDeployImage(input, spec, state);
    if (!built) {
      state.finishedAt = new Date().toISOString();
      return;
    }
    spec = built;
  }
  listen();
  const deadline = startDeadline(job.timeoutSeconds);
  try {
    await deadline.scope.run(async () => {
      const accepted = await deployActivities().requestDeployRollout({
        request: {
          id,
          spec,
          requestedBy: { user: `pipeline ${input.pipelineName}`, channel: 'pipeline', comment: `run ${runId}` },
          notify: { workflowId: workflowInfo().workflowId },
        },
        taskQueue: workflowInfo().taskQueue,
      });
      state.deployment!.position = accepted.position;
      await condition(() => finished.has(id));
    });
  } catch (error) {
    if (isCancellation(error)) {
      if (!deadline.timedOut()) {
        state.status = 'cancelled';
        throw error;
      }
      Object.assign(state, {
        status: 'failed',
        reason: 'timed_out',
        message: `the rollout did not end within the job's timeout; it carries on (see conveyor deploy status ${spec.service} --env ${spec.environment})`,
      });
      return;
    }
    const cause = error instanceof ActivityFailure ? error.cause : error;
    const refused = cause instanceof ApplicationFailure && cause.type === 'RolloutRefused';
    Object.assign(state, {
      status: 'failed',
      reason: refused ? 'configuration' : 'infrastructure',
      message: `the rollout was not accepted: ${cause instanceof Error ? cause.message : String(cause)}`,
    });
    return;
  } finally {
    deadline.clear();
    state.finishedAt = new Date().toISOString();
  }
  const result = finished.get(id)!;
  Object.assign(state.deployment, { outcome: result.outcome, evidence: result.evidence });
  if (result.outcome === 'complete') {
    state.status = 'success';
    return;
  }
  const evidence = describeEvidence(result.evidence);
  Object.assign(state, {
    status: 'failed',
    reason: result.outcome === 'rolled_back' ? 'rolled_back' : 'deploy_failed',
    message: `${result.outcome === 'rolled_back' ? 'rolled back' : 'failed'}: ${result.reason ?? 'no reason given'}${evidence ? ` (evidence: ${evidence})` : ''}`,
  });
}
