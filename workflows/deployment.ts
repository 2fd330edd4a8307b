/**
 * `deployment`: the long-lived workflow of one service in one environment (DESIGN.md §7, docs/deployments.md),
 * id `deploy-<service>-<environment>`. It takes rollout requests (update-with-start or signal-with-start), runs one
 * at a time and queues the rest, and between rollouts keeps what runs: the stable release, the previous one, the
 * old blue-green colour until its scale-down delay passes, the history. It continues as new after every rollout and
 * whenever its history passes a budget — mid-rollout too, at a pause, a gate or between measurements.
 *
 * Every control is an update (validated: refusals reach the caller, nothing changes) and a signal of the same name
 * (refusals are recorded); see deployment-messages.ts.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Measurement } from '../deploy/analysis';
import { emptyTally } from '../deploy/analysis';
import { gateState, refusalReason, type GateDecision } from '../deploy/approvals';
import type { RouteIntent } from '../deploy/route-table';
import {
  controlRefusal,
  rolloutState,
  startRollout,
  type DeployState,
  type RolloutControl,
  type RolloutEvent,
} from '../deploy/rollout-machine';
import { describeStep, planRollback, planRollout, type RolloutPlan } from '../deploy/rollout-plan';
import type { GateSpec, RouterSpec } from '../deploy/spec';
import { quickActivities, waitingActivities } from './deployment-activities';
import {
  abortSignal,
  abortUpdate,
  approveSignal,
  approveUpdate,
  destroySignal,
  destroyUpdate,
  pauseSignal,
  pauseUpdate,
  promoteSignal,
  promoteUpdate,
  rejectSignal,
  rejectUpdate,
  resumeSignal,
  resumeUpdate,
  rollbackSignal,
  rollbackUpdate,
  rolloutFinishedSignal,
  rolloutResultQuery,
  rolloutSignal,
  rolloutUpdate,
  statusQuery,
  type Actor,
  type ControlAccepted,
  type ControlRecord,
  type DeploymentInput,
  type DeploymentStatus,
  type GateInput,
  type RolloutAccepted,
  type RolloutRequest,
  type RolloutResult,
} from './deployment-messages';
import { deployStateKey, environmentKey, serviceKey } from './search-attributes';
import { blueGreenRuntime } from './rollout-blue-green';
import { canaryRuntime } from './rollout-canary';
import {
  allTo,
  backendsOf,
  failureMessage,
  instanceNames,
  slots,
  RolloutOps,
  type Release,
  type RolloutRecord,
  type StrategyRuntime,
} from './rollout-context';
import { openRolloutIncident } from './deployment-incident';
import { directRuntime } from './rollout-direct';
import { driveRollout } from './rollout-driver';
import { followGateNotices, type GateNotice } from './gate-notices';
import { rollingRuntime } from './rollout-rolling';

/** A request waiting for its turn. */
type QueuedRollout =
  { kind: 'rollout'; request: RolloutRequest } | { kind: 'rollback'; id: string; to?: string; requestedBy: Actor };

/** What the workflow remembers between rollouts (carried across continue-as-new). */
interface Memory {
  nextRevision: number;
  stable: Release | null;
  previous: Release | null;
  /** Blue-green's old colour, kept up until `at` for an instant rollback. */
  retiring: { release: Release; at: string } | null;
  router: RouterSpec | null;
  history: RolloutResult[];
  /** Ids of requests already accepted (the last ones), so a repeated request is accepted once. */
  seen: string[];
  queue: QueuedRollout[];
  current: (RolloutRecord & { preparing: boolean }) | null;
  approvals: GateDecision[];
  analysis: Measurement[];
  controls: ControlRecord[];
  lastRollback: DeploymentStatus['lastRollback'];
  lastState: DeployState;
  /** Releases that completed, newest last: `rollback --to VERSION` finds them here. */
  releases: Release[];
  /** Slack messages of approval gates (workflows/gate-notices.ts); absent in memory carried by older runs. */
  gateNotices?: GateNotice[];
}

/** Bounds on what the workflow keeps, so its state and queries stay small. */
const keep = { history: 500, seen: 1000, analysis: 100, controls: 100, approvals: 200, releases: 20 } as const;

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

function freshMemory(): Memory {
  return {
    nextRevision: 1,
    stable: null,
    previous: null,
    retiring: null,
    router: null,
    history: [],
    seen: [],
    queue: [],
    current: null,
    approvals: [],
    analysis: [],
    controls: [],
    lastRollback: null,
    lastState: 'pending',
    releases: [],
  };
}

/** A refusal for an update's caller: its message is the one line `conveyor deploy …` prints. */
function refuse(reason: string): never {
  throw ApplicationFailure.create({ type: 'ControlRefused', message: reason, nonRetryable: true });
}

/** Runs the deployment of one service in one environment until it is destroyed. */
export async function deployment(input: DeploymentInput): Promise<{ destroyedBy: string; rollouts: number }> {
  const { service, environment } = input;
  const memory: Memory = (input.carried as Memory | undefined) ?? freshMemory();
  const events: RolloutEvent[] = [];
  const historyBudget = input.options?.historyBudget ?? 4000;
  let destroyRequest: Actor | null = null;
  const quick = quickActivities();

  const state = (): DeployState => {
    const current = memory.current;
    if (!current) return memory.lastState;
    return current.preparing ? 'preparing' : rolloutState(current.plan, current.progress);
  };
  let publishedState: DeployState | undefined;
  const publishState = () => {
    const now = state();
    if (now === publishedState) return;
    publishedState = now;
    upsertSearchAttributes([
      { key: serviceKey, value: service },
      { key: environmentKey, value: environment },
      { key: deployStateKey, value: now },
    ]);
  };
  publishState();

  const recordControl = (control: ControlRecord['control'], actor: Actor, channel: string, reason?: string) =>
    push(
      memory.controls,
      {
        control,
        user: actor.user,
        channel: actor.channel ?? channel,
        at: new Date().toISOString(),
        comment: actor.comment,
        outcome: reason ? 'refused' : 'applied',
        reason,
      },
      keep.controls,
    );

  // ---- gates -------------------------------------------------------------------------------------------------
  const openGate = (): GateSpec | undefined => {
    const current = memory.current;
    if (!current || current.preparing || current.progress.task.kind !== 'step') return undefined;
    const step = current.plan.steps[current.progress.task.index];
    return step?.kind === 'approval' && gateState(step.gate, memory.approvals) === 'pending' ? step.gate : undefined;
  };
  const gateRefusal = (decision: 'approve' | 'reject', gateInput: GateInput): string | undefined => {
    const gate = openGate();
    if (!gate) {
      return gateInput.gate
        ? `gate '${gateInput.gate}' is not open (state: ${state()})`
        : `no approval gate is open (state: ${state()})`;
    }
    if (gateInput.gate && gateInput.gate !== gate.name) {
      return `gate '${gateInput.gate}' is not open: the open gate is '${gate.name}'`;
    }
    return refusalReason(gate, memory.current?.groups ?? {}, memory.approvals, gateInput.user ?? '', decision);
  };
  const decide = (decision: 'approve' | 'reject', gateInput: GateInput, channel: string): ControlAccepted => {
    const gate = openGate()!;
    push(
      memory.approvals,
      {
        gate: gate.name,
        user: gateInput.user,
        decision: decision === 'approve' ? 'approved' : 'rejected',
        channel: gateInput.channel ?? channel,
        at: new Date().toISOString(),
        comment: gateInput.comment,
      },
      keep.approvals,
    );
    const approvers = new Set(
      memory.approvals.filter((d) => d.gate === gate.name && d.decision === 'approved').map((d) => d.user),
    );
    const message =
      decision === 'approve'
        ? `approved gate '${gate.name}' (${approvers.size} of ${gate.required})`
        : `rejected gate '${gate.name}': the rollout rolls back`;
    return { message, state: state() };
  };
  const refusedDecision = (decision: 'approve' | 'reject', gateInput: GateInput, reason: string) =>
    push(
      memory.approvals,
      {
        gate: gateInput.gate ?? openGate()?.name ?? '',
        user: gateInput.user ?? '',
        decision: 'refused',
        channel: gateInput.channel ?? 'temporal-ui',
        at: new Date().toISOString(),
        comment: gateInput.comment,
        reason: `${decision}: ${reason}`,
      },
      keep.approvals,
    );
  for (const [decision, update, signal] of [
    ['approve', approveUpdate, approveSignal],
    ['reject', rejectUpdate, rejectSignal],
  ] as const) {
    setHandler(update, (gateInput) => decide(decision, gateInput, 'api'), {
      validator: (gateInput) => {
        const reason = gateRefusal(decision, gateInput);
        if (reason) refuse(reason);
      },
    });
    setHandler(signal, (gateInput) => {
      const reason = gateRefusal(decision, gateInput);
      if (reason) refusedDecision(decision, gateInput, reason);
      else decide(decision, gateInput, 'temporal-ui');
    });
  }

  // ---- controls ----------------------------------------------------------------------------------------------
  const controlRefusalFor = (control: RolloutControl): string | undefined => {
    if (!control.user?.trim()) return `say who you are: a ${control.type} needs a user`;
    const current = memory.current;
    if (!current) return `no rollout is running (state: ${state()})`;
    return controlRefusal(current.plan, current.progress, control);
  };
  const applyControl = (control: RolloutControl): ControlAccepted => {
    events.push(control);
    const what = {
      promote: control.type === 'promote' && control.full ? 'promoting fully' : 'promoting to the next step',
      abort: 'aborting: all traffic back to stable',
      pause: 'pausing after the current step',
      resume: 'resuming',
    }[control.type];
    return { message: what, state: state() };
  };
  const controlOf = (type: RolloutControl['type'], actor: Actor & { full?: boolean }): RolloutControl => {
    if (type === 'promote') return { type, user: actor.user, full: actor.full === true };
    if (type === 'abort') return { type, user: actor.user, reason: actor.comment };
    return { type, user: actor.user };
  };
  const controls = [
    ['promote', promoteUpdate, promoteSignal],
    ['abort', abortUpdate, abortSignal],
    ['pause', pauseUpdate, pauseSignal],
    ['resume', resumeUpdate, resumeSignal],
  ] as const;
  for (const [type, update, signal] of controls) {
    setHandler(
      update,
      (actor: Actor & { full?: boolean }) => {
        recordControl(type, actor, 'api');
        return applyControl(controlOf(type, actor));
      },
      {
        validator: (actor: Actor & { full?: boolean }) => {
          const reason = controlRefusalFor(controlOf(type, actor));
          if (reason) refuse(reason);
        },
      },
    );
    setHandler(signal, (actor: Actor & { full?: boolean }) => {
      const reason = controlRefusalFor(controlOf(type, actor));
      recordControl(type, actor, 'temporal-ui', reason);
      if (!reason) applyControl(controlOf(type, actor));
    });
  }

  // ---- rollout requests --------------------------------------------------------------------------------------
  const known = (id: string) =>
    memory.seen.includes(id) ||
    memory.current?.id === id ||
    memory.queue.some((item) => (item.kind === 'rollout' ? item.request.id : item.id) === id);
  const position = (id: string) => {
    if (memory.current?.id === id) return 0;
    const index = memory.queue.findIndex((item) => (item.kind === 'rollout' ? item.request.id : item.id) === id);
    return index < 0 ? -1 : index + 1;
  };
  const rolloutRefusal = (request: RolloutRequest): string | undefined => {
    if (!request?.id) return 'a rollout request needs an id';
    const spec = request.spec;
    if (spec?.service !== service || spec.environment !== environment) {
      return `this workflow (${workflowInfo().workflowId}) deploys service ${service} in ${environment}, not ${spec?.service} in ${spec?.environment}`;
    }
    if (!spec.image || !spec.version) return 'a rollout request needs an image and a version';
    if (destroyRequest) return 'the deployment is being destroyed';
    return undefined;
  };
  const acceptRollout = (request: RolloutRequest): RolloutAccepted => {
    if (known(request.id)) return { id: request.id, position: position(request.id), duplicate: true };
    const item: QueuedRollout = { kind: 'rollout', request };
    if (request.supersede) {
      memory.queue.unshift(item);
      const current = memory.current;
      if (
        current &&
        !controlRefusal(current.plan, current.progress, { type: 'abort', user: request.requestedBy.user })
      ) {
        events.push({ type: 'abort', user: request.requestedBy.user, reason: `superseded by ${request.id}` });
      }
    } else {
      memory.queue.push(item);
    }
    recordControl('rollout', request.requestedBy, 'api');
    return { id: request.id, position: position(request.id), duplicate: false };
  };
  setHandler(rolloutUpdate, acceptRollout, {
    validator: (request) => {
      const reason = rolloutRefusal(request);
      if (reason) refuse(reason);
    },
  });
  setHandler(rolloutSignal, (request) => {
    const reason = rolloutRefusal(request);
    if (reason) recordControl('rollout', request?.requestedBy ?? { user: '' }, 'temporal-ui', reason);
    else acceptRollout(request);
  });

  // ---- rollback after completion ------------------------------------------------------------------------------
  const rollbackTarget = (to?: string): Release | undefined => {
    if (!to) return memory.previous ?? undefined;
    return [...memory.releases]
      .reverse()
      .find((release) => release.version === to && release.revision !== memory.stable?.revision);
  };
  const rollbackRefusal = (actor: Actor & { to?: string }): string | undefined => {
    if (!actor.user?.trim()) return 'say who you are: a rollback needs a user';
    if (memory.current) return 'a rollout is running: abort it instead';
    if (!memory.stable) return 'nothing is deployed yet';
    if (memory.queue.some((item) => item.kind === 'rollback')) return 'a rollback is already queued';
    if (!rollbackTarget(actor.to)) {
      const versions = [...new Set(memory.releases.map((release) => release.version))].filter(
        (v) => v !== memory.stable?.version,
      );
      return actor.to
        ? `no earlier release of version ${actor.to} (known: ${versions.join(', ') || 'none'})`
        : 'there is no previous version to roll back to';
    }
    return undefined;
  };
  const acceptRollback = (actor: Actor & { to?: string }): ControlAccepted => {
    const target = rollbackTarget(actor.to)!;
    const id = `rollback-${memory.nextRevision}-${memory.history.length}`;
    memory.queue.unshift({ kind: 'rollback', id, to: actor.to, requestedBy: actor });
    recordControl('rollback', actor, 'api');
    const instant = memory.retiring?.release.revision === target.revision ? ' (its containers are still up)' : '';
    return { message: `rolling back to ${target.version}${instant}`, state: state() };
  };
  setHandler(rollbackUpdate, acceptRollback, {
    validator: (actor) => {
      const reason = rollbackRefusal(actor);
      if (reason) refuse(reason);
    },
  });
  setHandler(rollbackSignal, (actor) => {
    const reason = rollbackRefusal(actor);
    if (reason) recordControl('rollback', actor, 'temporal-ui', reason);
    else acceptRollback(actor);
  });

  // ---- destroy -----------------------------------------------------------------------------------------------
  const requestDestroy = (actor: Actor, channel: string): ControlAccepted => {
    if (!destroyRequest) destroyRequest = { ...actor, channel: actor.channel ?? channel };
    recordControl('destroy', actor, channel);
    const current = memory.current;
    if (current && !controlRefusal(current.plan, current.progress, { type: 'abort', user: actor.user })) {
      events.push({ type: 'abort', user: actor.user, reason: 'the deployment is being destroyed' });
    }
    return { message: 'destroying: the router and every container of the service', state: state() };
  };
  setHandler(destroyUpdate, (actor) => requestDestroy(actor, 'api'), {
    validator: (actor) => {
      if (!actor?.user?.trim()) refuse('say who you are: destroy needs a user');
    },
  });
  setHandler(destroySignal, (actor) => {
    if (!actor?.user?.trim()) recordControl('destroy', actor ?? { user: '' }, 'temporal-ui', 'destroy needs a user');
    else requestDestroy(actor, 'temporal-ui');
  });

  // ---- queries -----------------------------------------------------------------------------------------------
  setHandler(statusQuery, () => describe(memory, service, environment, state()));
  setHandler(rolloutResultQuery, (id) => memory.history.find((result) => result.id === id) ?? null);

  // ---- Slack messages of gates --------------------------------------------------------------------------------
  const gateNotices = followGateNotices((memory.gateNotices ??= []), () =>
    describe(memory, service, environment, state()),
  );

  // ---- the loop ----------------------------------------------------------------------------------------------
  const historyDue = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyBudget;
  const continueAsNewNow = async (): Promise<never> => {
    // Gate messages are settled first, so a decided gate's message never keeps its buttons.
    await condition(() => allHandlersFinished() && gateNotices.idle());
    return continueAsNew<typeof deployment>({ ...input, carried: memory });
  };

  for (;;) {
    if (memory.current) {
      const outcome = await runRollout(memory.current);
      if (outcome === 'continue_as_new') await continueAsNewNow();
      await finishRollout(memory.current);
      memory.current = null;
      publishState();
      // Each rollout's history starts afresh: the run stays small however many rollouts the service sees.
      if (!destroyRequest) await continueAsNewNow();
    }
    const retireAt = memory.retiring ? Date.parse(memory.retiring.at) : undefined;
    const woke = await condition(
      () => memory.queue.length > 0 || destroyRequest !== null || historyDue(),
      retireAt === undefined ? undefined : Math.max(0, retireAt - Date.now()),
    );
    if (destroyRequest) return destroy(destroyRequest);
    if (memory.retiring && (!woke || Date.parse(memory.retiring.at) <= Date.now())) await retireOldColour();
    if (memory.queue.length > 0) {
      await prepareNext();
      continue;
    }
    if (historyDue()) await continueAsNewNow();
  }

  // ---- the pieces of the loop --------------------------------------------------------------------------------
  async function retireOldColour(): Promise<void> {
    const retiring = memory.retiring;
    if (!retiring) return;
    const drain = retiring.release.spec.blueGreen?.drainTimeoutSeconds ?? 120;
    const names = instanceNames(retiring.release, slots(retiring.release.replicas));
    await waitingActivities(drain + 60).drain({ service, environment, names, timeoutSeconds: drain });
    await quick.removeInstances({ names });
    memory.retiring = null;
  }

  function runtimeFor(record: RolloutRecord): StrategyRuntime {
    const ops = new RolloutOps(record);
    switch (record.plan.kind) {
      case 'canary':
        return canaryRuntime(ops);
      case 'blue_green':
        return blueGreenRuntime(ops);
      case 'rolling':
        return rollingRuntime(ops);
      default:
        return directRuntime(ops);
    }
  }

  async function runRollout(record: RolloutRecord & { preparing: boolean }): Promise<'finished' | 'continue_as_new'> {
    if (record.preparing) {
      const failure = await prepare(record);
      record.preparing = false;
      if (failure) {
        record.progress = {
          ...record.progress,
          taskId: record.progress.taskId + 1,
          task: { kind: 'done', outcome: 'failed', reason: failure },
        };
        return 'finished';
      }
      publishState();
    }
    return driveRollout({
      record,
      runtime: runtimeFor(record),
      events,
      decisions: () => memory.approvals,
      recordDecision: (decision) => push(memory.approvals, decision, keep.approvals),
      recordMeasurement: (measurement) => push(memory.analysis, measurement, keep.analysis),
      progressed: publishState,
      continueAsNewDue: historyDue,
      watchIntervalSeconds: input.options?.watchIntervalSeconds,
    });
  }

  /** Starts the next queued request: its record, in `preparing`. */
  async function prepareNext(): Promise<void> {
    const item = memory.queue.shift()!;
    const now = new Date().toISOString();
    let release: Release;
    let plan: RolloutPlan;
    let request: RolloutRequest | null = null;
    if (item.kind === 'rollback') {
      const target = rollbackTarget(item.to);
      if (!target || !memory.stable) return;
      release = target;
      const running = memory.retiring?.release.revision === target.revision;
      plan = planRollback(running, target.replicas);
    } else {
      request = item.request;
      const spec = request.spec;
      const colour = memory.stable?.colour === 'blue' ? 'green' : memory.stable ? 'blue' : 'blue';
      release = {
        revision: memory.nextRevision,
        version: spec.version,
        image: spec.image,
        replicas: spec.replicas,
        spec,
        colour: spec.strategy === 'blue_green' || memory.stable?.colour ? colour : undefined,
      };
      memory.nextRevision += 1;
      plan = planRollout(spec, memory.stable !== null);
    }
    const id = item.kind === 'rollout' ? item.request.id : item.id;
    push(memory.seen, id, keep.seen);
    memory.approvals = [];
    memory.analysis = [];
    memory.current = {
      id,
      request,
      requestedBy: item.kind === 'rollout' ? item.request.requestedBy : item.requestedBy,
      release,
      from: memory.stable,
      plan,
      progress: startRollout(plan, Date.now()),
      startedAt: now,
      routes: allTo(
        memory.stable ? backendsOf(memory.stable, slots(memory.stable.replicas)) : [],
        release.spec.router.sticky,
      ),
      groups: request?.groups ?? {},
      stepTally: null,
      backgroundTally: emptyTally,
      baseline: null,
      healthy: [],
      preparing: true,
    };
    publishState();
  }

  /**
   * Before a rollout (DEP-006, DEP-008): the old blue-green colour goes, the image exists, the router runs, the
   * stable release is healthy, and a baseline of its traffic is taken. Returns why it cannot start, if it cannot.
   */
  async function prepare(record: RolloutRecord): Promise<string | undefined> {
    const { release, from } = record;
    try {
      if (memory.retiring && memory.retiring.release.revision !== release.revision) await retireOldColour();
      await quick.inspectImage({ image: release.image });
      const drain =
        release.spec.blueGreen?.drainTimeoutSeconds ??
        release.spec.canary?.drainTimeoutSeconds ??
        release.spec.rolling?.drainTimeoutSeconds ??
        120;
      await quick.ensureRouter({ service, environment, router: release.spec.router, drainSeconds: drain });
      memory.router = release.spec.router;
      if (from) {
        const check = from.spec.healthCheck;
        const quickCheck = {
          ...check,
          successThreshold: 1,
          startTimeoutSeconds: Math.max(10, check.intervalSeconds * check.failureThreshold + check.timeoutSeconds),
        };
        // A rollback target whose containers are up is checked as part of the rollback's own switch.
        const health = await waitingActivities(quickCheck.startTimeoutSeconds + 60, 30).waitHealthy({
          instances: instanceNames(from, slots(from.replicas)),
          port: from.spec.port,
          healthCheck: quickCheck,
        });
        if (!health.healthy) {
          return (
            `the stable release ${from.version} is not healthy (${health.failure.instance}: ${health.failure.message}); ` +
            `fix it or roll it back before deploying`
          );
        }
        // The routes the router serves may predate this workflow run (a restarted router keeps its own).
        await quick.setRoutes({ service, environment, routes: record.routes });
        const seconds = Math.max(10, release.spec.canary?.analysis?.intervalSeconds ?? 10);
        record.baseline = await quick.baseline({ service, environment, track: 'stable', seconds });
      }
      return undefined;
    } catch (error) {
      return failureMessage(error);
    }
  }

  async function finishRollout(record: RolloutRecord): Promise<void> {
    const task = record.progress.task;
    if (task.kind !== 'done') return;
    const now = new Date().toISOString();
    const { release, from } = record;
    if (task.outcome === 'complete') {
      memory.previous = from;
      memory.stable = release;
      const delay = release.spec.blueGreen?.scaleDownDelaySeconds ?? 0;
      if (record.plan.kind === 'blue_green' && from && delay > 0) {
        memory.retiring = { release: from, at: new Date(Date.now() + delay * 1000).toISOString() };
      } else if (record.plan.kind === 'rollback') {
        memory.retiring = null;
      }
      memory.releases = memory.releases.filter((known) => known.revision !== release.revision);
      push(memory.releases, release, keep.releases);
    }
    if (task.outcome === 'rolled_back' || (task.outcome === 'failed' && task.evidence)) {
      memory.lastRollback = { version: release.version, reason: task.reason ?? '', evidence: task.evidence, at: now };
    }
    memory.lastState = task.outcome;
    const result: RolloutResult = {
      id: record.id,
      service,
      environment,
      version: release.version,
      image: release.image,
      strategy: record.plan.kind === 'initial' ? release.spec.strategy : record.plan.kind,
      outcome: task.outcome,
      reason: task.reason,
      evidence: task.evidence,
      requestedBy: record.requestedBy,
      startedAt: record.startedAt,
      finishedAt: now,
    };
    // Into the history before the incident activity runs: a query during it sees the final state with its entry.
    push(memory.history, result, keep.history);
    result.incident = await openRolloutIncident(result, {
      release,
      from,
      analysis: memory.analysis,
      approvals: memory.approvals,
    });
    const notify = record.request?.notify;
    if (notify) {
      try {
        await getExternalWorkflowHandle(notify.workflowId).signal(rolloutFinishedSignal, result);
      } catch {
        // The requester has gone away (cancelled, finished): the result stays in the history.
      }
    }
  }

  async function destroy(actor: Actor): Promise<{ destroyedBy: string; rollouts: number }> {
    await quick.destroyDeployment({ service, environment });
    const now = new Date().toISOString();
    for (const item of memory.queue.splice(0)) {
      if (item.kind !== 'rollout' || !item.request.notify) continue;
      const result: RolloutResult = {
        id: item.request.id,
        service,
        environment,
        version: item.request.spec.version,
        image: item.request.spec.image,
        strategy: item.request.spec.strategy,
        outcome: 'failed',
        reason: `the deployment was destroyed by ${actor.user} before this rollout started`,
        requestedBy: item.request.requestedBy,
        startedAt: now,
        finishedAt: now,
      };
      await getExternalWorkflowHandle(item.request.notify.workflowId)
        .signal(rolloutFinishedSignal, result)
        .catch(() => undefined);
    }
    memory.stable = null;
    memory.retiring = null;
    memory.lastState = 'pending';
    publishState();
    await condition(allHandlersFinished);
    return { destroyedBy: actor.user, rollouts: memory.history.length };
  }
}

/** The share of traffic (%) the rollout's new release gets now. */
function newShare(record: RolloutRecord): number {
  const routes: RouteIntent = record.routes;
  if (routes.canary.backends.length > 0 && routes.canary.weight > 0) return routes.canary.weight;
  const newNames = new Set(instanceNames(record.release, slots(Math.max(record.release.replicas, 20))));
  const total = routes.stable.backends.length;
  if (total === 0) return 0;
  const serving = routes.stable.backends.filter((backend) => newNames.has(backend.name)).length;
  return Math.round((serving / total) * routes.stable.weight);
}

/** The `status` query's answer. */
function describe(memory: Memory, service: string, environment: string, state: DeployState): DeploymentStatus {
  const current = memory.current;
  const summary = (release: Release | null) =>
    release && {
      revision: release.revision,
      version: release.version,
      image: release.image,
      replicas: release.replicas,
    };
  const share = current ? newShare(current) : 0;
  let step: DeploymentStatus['step'] = null;
  let gate: DeploymentStatus['gate'] = null;
  if (current && !current.preparing && current.progress.task.kind === 'step') {
    const task = current.progress.task;
    const planned = current.plan.steps[task.index]!;
    step = {
      index: task.index,
      kind: planned.kind,
      description: describeStep(planned),
      until: task.until,
      deadline: task.deadline,
    };
    if (planned.kind === 'approval' && gateState(planned.gate, memory.approvals) === 'pending') {
      gate = {
        name: planned.gate.name,
        approvers: planned.gate.approvers,
        required: planned.gate.required,
        approvedBy: memory.approvals
          .filter((decision) => decision.gate === planned.gate.name && decision.decision === 'approved')
          .map((decision) => decision.user),
        deadline: task.deadline ?? '',
      };
    }
  }
  const routerSpec = memory.router;
  return {
    service,
    environment,
    state,
    strategy: current
      ? current.plan.kind === 'initial'
        ? current.release.spec.strategy
        : current.plan.kind
      : (memory.history.at(-1)?.strategy ?? null),
    stable: summary(current ? current.from : memory.stable),
    canary: current ? { ...summary(current.release)!, weight: share } : null,
    step,
    weights: { stable: 100 - share, canary: share },
    approvals: memory.approvals,
    gate,
    analysis: memory.analysis,
    baseline: current?.baseline ?? null,
    lastRollback: memory.lastRollback,
    history: memory.history,
    rollout: current && {
      id: current.id,
      version: current.release.version,
      image: current.release.image,
      requestedBy: current.requestedBy,
      startedAt: current.startedAt,
      steps: current.plan.steps.map(describeStep),
    },
    queue: memory.queue.map((item) =>
      item.kind === 'rollout'
        ? { id: item.request.id, version: item.request.spec.version, requestedBy: item.request.requestedBy }
        : { id: item.id, version: item.to ?? memory.previous?.version ?? 'previous', requestedBy: item.requestedBy },
    ),
    held: current?.progress.held ?? null,
    router: routerSpec && { kind: routerSpec.kind, port: routerSpec.port, previewPort: routerSpec.previewPort },
    controls: memory.controls,
    retiring: memory.retiring && { ...summary(memory.retiring.release)!, at: memory.retiring.at },
  };
}
