/**
 * The rollout driver (docs/deployments.md#the-rollout-state-machine): runs whatever task the rollout state machine
 * names, beside the background analysis and the health watch, and feeds everything that happens — a step done or
 * failed, a measurement, an approval, a control — back into the machine, one event at a time. A task the machine
 * leaves behind is cancelled. Approvals, pauses and analysis steps are the same for every strategy and live here;
 * the strategy runtime does the rest.
 */
import { CancellationScope, condition, isCancellation, sleep } from '@temporalio/workflow';
import type { Measurement } from '../deploy/analysis';
import { emptyTally, tallyMeasurement } from '../deploy/analysis';
import { gateState, type GateDecision } from '../deploy/approvals';
import { advanceRollout, type RolloutEvent, type RolloutProgress } from '../deploy/rollout-machine';
import type { AnalysisSpec, GateSpec } from '../deploy/spec';
import { waitingActivities } from './deployment-activities';
import { failureMessage, type RolloutRecord, type StrategyRuntime } from './rollout-context';

/** What the driver needs from the deployment workflow. */
export interface DriverHooks {
  record: RolloutRecord;
  runtime: StrategyRuntime;
  /** Events from controls and approvals; the driver takes them in order. */
  events: RolloutEvent[];
  /** Decisions on the rollout's gates, for the open gate to check. */
  decisions: () => GateDecision[];
  recordDecision(decision: GateDecision): void;
  recordMeasurement(measurement: Measurement): void;
  /** Called after every change of progress. */
  progressed(before: RolloutProgress): void;
  /** True when the workflow should continue as new at the next safe point. */
  continueAsNewDue(): boolean;
  /** Seconds between health checks of the new revision in rotation (default: its health check interval). */
  watchIntervalSeconds?: number;
}

/** A task or background job running in its own cancellation scope. */
interface Running {
  key: string;
  scope: CancellationScope;
  done: Promise<void>;
}

function start(key: string, body: () => Promise<void>): Running {
  const scope = new CancellationScope();
  const done = scope.run(body).catch((error: unknown) => {
    if (!isCancellation(error)) throw error;
  });
  return { key, scope, done };
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running) return;
  running.scope.cancel();
  await running.done;
}

/** A pause or wait with nothing to do: ends only when the task is cancelled. */
function forever(): Promise<void> {
  return condition(() => false);
}

/**
 * Drives the rollout until it is done (`finished`) or until the workflow should continue as new at a safe point —
 * a pause, a gate, a hold, between measurements — (`continue_as_new`), with everything it ran stopped.
 */
export async function driveRollout(hooks: DriverHooks): Promise<'finished' | 'continue_as_new'> {
  const { record, events } = hooks;
  const plan = record.plan;
  let task: Running | undefined;
  let analysis: Running | undefined;
  let watch: Running | undefined;
  const push = (event: RolloutEvent) => events.push(event);

  const stopAll = async () => {
    await Promise.all([stop(task), stop(analysis), stop(watch)]);
    task = analysis = watch = undefined;
  };

  const safePoint = (progress: RolloutProgress) => {
    const { task: current } = progress;
    if (current.kind === 'hold') return true;
    if (current.kind !== 'step') return false;
    const kind = plan.steps[current.index]?.kind;
    return kind === 'pause' || kind === 'approval' || kind === 'analysis';
  };

  for (;;) {
    const progress = record.progress;
    if (progress.task.kind === 'done') break;
    const taskKey = String(progress.taskId);
    if (task?.key !== taskKey) {
      await stop(task);
      task = start(taskKey, async () => {
        push(await runTask(hooks, progress));
      });
    }
    const busy = progress.task.kind === 'rollback';
    const analysisKey = !busy && progress.analysing ? JSON.stringify(progress.analysing) : '';
    if ((analysis?.key ?? '') !== analysisKey) {
      await stop(analysis);
      analysis = analysisKey ? start(analysisKey, () => backgroundAnalysis(hooks, progress.analysing!)) : undefined;
    }
    const watched = busy ? [] : record.healthy;
    const watchKey = watched.join(' ');
    if ((watch?.key ?? '') !== watchKey) {
      await stop(watch);
      watch = watchKey ? start(watchKey, () => watchHealth(hooks, [...watched])) : undefined;
    }
    const canContinueAsNew = () => safePoint(record.progress) && hooks.continueAsNewDue();
    await condition(() => events.length > 0 || canContinueAsNew());
    if (events.length === 0) {
      await stopAll();
      return 'continue_as_new';
    }
    while (events.length > 0) {
      const event = events.shift()!;
      const before = record.progress;
      record.progress = advanceRollout(plan, before, event, Date.now());
      // Resuming after an inconclusive analysis starts its counts afresh.
      if (event.type === 'resume') record.backgroundTally = emptyTally;
      if (record.progress !== before) hooks.progressed(before);
    }
  }
  await stopAll();
  return 'finished';
}

/** Runs the current task to the event that ends it. */
async function runTask(hooks: DriverHooks, progress: RolloutProgress): Promise<RolloutEvent> {
  const { record, runtime } = hooks;
  const { task, taskId } = progress;
  if (task.kind === 'hold') {
    await forever();
    throw new Error('unreachable');
  }
  if (task.kind === 'rollback') {
    // A rollback is never cancelled half-way: it is how the service gets back to a known state.
    return CancellationScope.nonCancellable(async () => {
      try {
        await runtime.rollback();
        return { type: 'rollback_done', taskId } as const;
      } catch (error) {
        return { type: 'rollback_failed', taskId, reason: failureMessage(error) } as const;
      }
    });
  }
  if (task.kind !== 'step') throw new Error(`no task to run for ${task.kind}`);
  const step = record.plan.steps[task.index]!;
  try {
    switch (step.kind) {
      case 'approval':
        return await runGate(hooks, step.gate, taskId, task.deadline!);
      case 'pause':
        if (task.until === undefined) await forever();
        else await sleep(Math.max(0, Date.parse(task.until) - Date.now()));
        return { type: 'step_done', taskId };
      case 'analysis':
        return await runAnalysisStep(hooks, step.analysis, step.count, task.index, taskId);
      default: {
        const result = await runtime.run(step, task.index);
        return result.ok
          ? { type: 'step_done', taskId }
          : { type: 'step_failed', taskId, reason: result.reason, evidence: result.evidence };
      }
    }
  } catch (error) {
    if (isCancellation(error)) throw error;
    const reason = failureMessage(error);
    return {
      type: 'step_failed',
      taskId,
      reason,
      evidence: { source: `step ${task.index + 1} (${step.kind})`, detail: reason },
    };
  }
}

/** Waits for a gate's decisions, or its deadline and `on_timeout`. */
async function runGate(hooks: DriverHooks, gate: GateSpec, taskId: number, deadline: string): Promise<RolloutEvent> {
  const decided = () => gateState(gate, hooks.decisions()) !== 'pending';
  const inTime = await condition(decided, Math.max(0, Date.parse(deadline) - Date.now()));
  if (inTime) {
    const state = gateState(gate, hooks.decisions());
    const mine = hooks.decisions().filter((decision) => decision.gate === gate.name);
    if (state === 'approved') {
      const users = mine.filter((decision) => decision.decision === 'approved').map((decision) => decision.user);
      return { type: 'gate_decided', taskId, approved: true, reason: `approved by ${users.join(', ')}` };
    }
    const rejection = mine.find((decision) => decision.decision === 'rejected')!;
    const comment = rejection.comment ? `: ${rejection.comment}` : '';
    return {
      type: 'gate_decided',
      taskId,
      approved: false,
      reason: `gate '${gate.name}' rejected by ${rejection.user}${comment}`,
    };
  }
  const approved = gate.onTimeout === 'approve';
  hooks.recordDecision({
    gate: gate.name,
    user: 'timeout',
    decision: 'timed_out',
    channel: 'timeout',
    at: new Date().toISOString(),
    comment: `no decision within ${gate.timeoutSeconds}s: on_timeout ${gate.onTimeout}`,
  });
  return {
    type: 'gate_decided',
    taskId,
    approved,
    reason: `gate '${gate.name}' timed out after ${gate.timeoutSeconds}s (on_timeout: ${gate.onTimeout})`,
  };
}

function measureInput(hooks: DriverHooks, analysis: AnalysisSpec, source: string) {
  const { release } = hooks.record;
  return {
    service: release.spec.service,
    environment: release.spec.environment,
    analysis,
    source,
    ...hooks.runtime.analysisTarget(),
    windowSeconds: analysis.intervalSeconds,
  };
}

function failingReason(measurement: Measurement): string {
  const failing = measurement.metrics.filter((metric) => metric.verdict === 'fail');
  return failing.map((metric) => metric.reason).join('; ') || measurement.verdict;
}

/** An analysis step: `count` measurements, judged with the step's limits. */
async function runAnalysisStep(
  hooks: DriverHooks,
  analysis: AnalysisSpec,
  count: number,
  index: number,
  taskId: number,
): Promise<RolloutEvent> {
  const { record } = hooks;
  if (record.stepTally?.taskId !== taskId) record.stepTally = { taskId, tally: emptyTally };
  const acts = waitingActivities(analysis.intervalSeconds + 60);
  const source = `step ${index + 1}`;
  for (;;) {
    const measurement = await acts.measure(measureInput(hooks, analysis, source));
    hooks.recordMeasurement(measurement);
    const { tally, outcome } = tallyMeasurement(analysis, record.stepTally.tally, measurement.verdict, count);
    record.stepTally = { taskId, tally };
    if (outcome === 'passed') return { type: 'step_done', taskId };
    if (outcome === 'failed') {
      return {
        type: 'step_failed',
        taskId,
        reason: `analysis (step ${index + 1}) failed: ${failingReason(measurement)}`,
        evidence: { source: `analysis (step ${index + 1})`, measurement },
      };
    }
    if (outcome === 'inconclusive') {
      return {
        type: 'inconclusive',
        taskId,
        reason: `analysis (step ${index + 1}) was inconclusive ${tally.inconclusives} times: a person decides (resume or abort)`,
      };
    }
  }
}

/** The background analysis: measures back to back until it fails, is inconclusive too often, or is stopped. */
async function backgroundAnalysis(hooks: DriverHooks, analysis: AnalysisSpec): Promise<void> {
  const { record } = hooks;
  const acts = waitingActivities(analysis.intervalSeconds + 60);
  for (;;) {
    const measurement = await acts.measure(measureInput(hooks, analysis, 'background'));
    hooks.recordMeasurement(measurement);
    const { tally, outcome } = tallyMeasurement(analysis, record.backgroundTally, measurement.verdict);
    record.backgroundTally = tally;
    if (outcome === 'failed') {
      hooks.events.push({
        type: 'check_failed',
        reason: `background analysis failed: ${failingReason(measurement)}`,
        evidence: { source: 'background analysis', measurement },
      });
      return;
    }
    if (outcome === 'inconclusive') {
      hooks.events.push({
        type: 'inconclusive',
        reason: `the background analysis was inconclusive ${tally.inconclusives} times: a person decides (resume or abort)`,
      });
      // Keep measuring: a failure still rolls back while a person looks.
      record.backgroundTally = { ...tally, inconclusives: 0 };
    }
  }
}

/** Follows the new revision's healthy instances; a failure rolls the rollout back. */
async function watchHealth(hooks: DriverHooks, instances: string[]): Promise<void> {
  const { release } = hooks.record;
  const check = release.spec.healthCheck;
  const failure = await waitingActivities(7 * 86_400, Math.max(30, check.timeoutSeconds * 3)).watchHealth({
    instances,
    port: release.spec.port,
    healthCheck: check,
    intervalSeconds: hooks.watchIntervalSeconds,
  });
  // An instance the rollout has since taken out of rotation is gone on purpose.
  if (!hooks.record.healthy.includes(failure.instance)) return;
  hooks.events.push({
    type: 'check_failed',
    reason: `${failure.instance} became unhealthy: ${failure.message}`,
    evidence: { source: 'health check', instance: failure.instance, detail: failure.message },
  });
}
