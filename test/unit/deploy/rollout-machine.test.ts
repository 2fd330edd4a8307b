/**
 * The rollout state machine, without Temporal: every strategy's plan walked step by step, with controls, gates,
 * background failures and stale events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  advanceRollout,
  controlRefusal,
  rolloutState,
  startRollout,
  type RolloutEvent,
  type RolloutProgress,
} from '../../../deploy/rollout-machine';
import { planRollback, planRollout, rollingBatches, type RolloutPlan } from '../../../deploy/rollout-plan';
import { deploySchema } from '../../../deploy/spec-schema';
import { toDeploySpec, type DeploySpec } from '../../../deploy/spec';

const t0 = Date.parse('2026-01-01T00:00:00Z');

function spec(extra: Record<string, unknown>): DeploySpec {
  return toDeploySpec(
    deploySchema.parse({ service: 'web', image: 'web:v2', port: 8080, router: { port: 18080 }, ...extra }),
  );
}

const canary = spec({
  strategy: 'canary',
  replicas: 2,
  canary: {
    analysis: { interval: 2, metrics: [{ name: 'error_rate', max: 0.05 }] },
    steps: [
      { set_weight: 20 },
      { pause: 30 },
      { analysis: { count: 2 } },
      { approval: { name: 'prod', approvers: ['alice'] } },
      { set_weight: 60 },
      { pause: {} },
    ],
  },
});

/** Feeds `step_done` for the current task. */
function done(plan: RolloutPlan, progress: RolloutProgress, now = t0): RolloutProgress {
  return advanceRollout(plan, progress, { type: 'step_done', taskId: progress.taskId }, now);
}

function kindOf(plan: RolloutPlan, progress: RolloutProgress): string {
  return progress.task.kind === 'step' ? plan.steps[progress.task.index]!.kind : progress.task.kind;
}

describe('rollout plans', () => {
  it('starts a first rollout without a canary', () => {
    const plan = planRollout(canary, false);
    assert.equal(plan.kind, 'initial');
    assert.deepEqual(
      plan.steps.map((step) => step.kind),
      ['start', 'promote'],
    );
  });

  it('compiles canary steps, starting the background analysis with the first traffic', () => {
    assert.deepEqual(
      planRollout(canary, true).steps.map((step) => step.kind),
      ['start', 'set_weight', 'begin_analysis', 'pause', 'analysis', 'approval', 'set_weight', 'pause', 'promote'],
    );
  });

  it('compiles blue-green as start, smoke, approval, switch, monitor, promote', () => {
    const blueGreen = spec({
      strategy: 'blue_green',
      approval: { approvers: ['ops'] },
      blue_green: { smoke: { image: 'busybox', script: 'true' }, approval: { approvers: ['alice'] }, monitor: 5 },
    });
    assert.deepEqual(
      planRollout(blueGreen, true).steps.map((step) => step.kind),
      ['approval', 'start', 'smoke', 'approval', 'switch', 'pause', 'promote'],
    );
  });

  it('splits rolling updates into batches within max_surge + max_unavailable', () => {
    assert.deepEqual(rollingBatches(3, 1, 1, 0), [[1], [2], [3]]);
    assert.deepEqual(rollingBatches(5, 2, 1, 1), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(rollingBatches(4, 3, 1, 0), [[1], [2], [3], [4]]);
    const plan = planRollout(spec({ replicas: 3 }), true);
    assert.deepEqual(
      plan.steps.map((step) => (step.kind === 'batch' ? step.slots : step.kind)),
      [[1], [2], [3], 'promote'],
    );
  });

  it('rolls back to a release whose containers are up with just a switch', () => {
    assert.deepEqual(
      planRollback(true, 2).steps.map((step) => step.kind),
      ['switch', 'promote'],
    );
    assert.deepEqual(
      planRollback(false, 2).steps.map((step) => step.kind),
      ['start', 'switch', 'promote'],
    );
  });
});

describe('the rollout state machine', () => {
  const plan = planRollout(canary, true);

  it('walks a canary to completion: timers end at a fixed time, gates wait, promote resumes an open pause', () => {
    let progress = startRollout(plan, t0);
    assert.equal(rolloutState(plan, progress), 'deploying');
    progress = done(plan, progress); // start
    progress = done(plan, progress); // set_weight 20 → background analysis begins, then the pause
    assert.ok(progress.analysing);
    assert.deepEqual(progress.task, { kind: 'step', index: 3, until: '2026-01-01T00:00:30.000Z' });
    assert.equal(rolloutState(plan, progress), 'paused');
    progress = done(plan, progress, t0 + 30_000);
    assert.equal(rolloutState(plan, progress), 'validating');
    progress = done(plan, progress, t0 + 34_000);
    assert.equal(rolloutState(plan, progress), 'awaiting_approval');
    assert.equal(progress.task.kind === 'step' && progress.task.deadline, '2026-01-02T00:00:34.000Z');
    progress = advanceRollout(
      plan,
      progress,
      { type: 'gate_decided', taskId: progress.taskId, approved: true, reason: 'ok' },
      t0,
    );
    progress = done(plan, progress); // set_weight 60
    assert.equal(kindOf(plan, progress), 'pause');
    assert.equal(progress.task.kind === 'step' && progress.task.until, undefined);
    progress = advanceRollout(plan, progress, { type: 'promote', user: 'alice', full: false }, t0);
    assert.equal(kindOf(plan, progress), 'promote');
    assert.equal(progress.analysing, null, 'the final promotion stops the background analysis');
    progress = done(plan, progress);
    assert.deepEqual(progress.task, { kind: 'done', outcome: 'complete' });
    assert.equal(rolloutState(plan, progress), 'complete');
  });

  it('rolls back on a background failure with its evidence, and ignores the stale step result', () => {
    let progress = done(plan, done(plan, startRollout(plan, t0)));
    const pauseTask = progress.taskId;
    const evidence = { source: 'background analysis', detail: 'error_rate 0.3 > max 0.05' };
    progress = advanceRollout(plan, progress, { type: 'check_failed', reason: 'error_rate too high', evidence }, t0);
    assert.deepEqual(progress.task, { kind: 'rollback', reason: 'error_rate too high', evidence });
    assert.equal(progress.analysing, null);
    assert.equal(rolloutState(plan, progress), 'rolling_back');
    assert.deepEqual(advanceRollout(plan, progress, { type: 'step_done', taskId: pauseTask }, t0), progress);
    progress = advanceRollout(plan, progress, { type: 'rollback_done', taskId: progress.taskId }, t0);
    assert.deepEqual(progress.task, { kind: 'done', outcome: 'rolled_back', reason: 'error_rate too high', evidence });
  });

  it('fails a first rollout that had to be undone, and reports a failed rollback as failed', () => {
    const initial = planRollout(canary, false);
    let progress = startRollout(initial, t0);
    progress = advanceRollout(
      initial,
      progress,
      { type: 'step_failed', taskId: progress.taskId, reason: 'unhealthy' },
      t0,
    );
    const undone = advanceRollout(initial, progress, { type: 'rollback_done', taskId: progress.taskId }, t0);
    assert.equal(undone.task.kind === 'done' && undone.task.outcome, 'failed');
    const broken = advanceRollout(
      initial,
      progress,
      { type: 'rollback_failed', taskId: progress.taskId, reason: 'docker down' },
      t0,
    );
    assert.deepEqual(broken.task, {
      kind: 'done',
      outcome: 'failed',
      reason: 'unhealthy; the rollback failed: docker down',
      evidence: undefined,
    });
  });

  it('rolls back when a gate is rejected, naming the gate', () => {
    let progress = startRollout(plan, t0);
    for (let i = 0; i < 4; i += 1) progress = done(plan, progress);
    assert.equal(kindOf(plan, progress), 'approval');
    const events: RolloutEvent[] = [
      { type: 'gate_decided', taskId: progress.taskId, approved: false, reason: 'rejected by bob' },
    ];
    progress = advanceRollout(plan, progress, events[0]!, t0);
    assert.deepEqual(progress.task, {
      kind: 'rollback',
      reason: 'rejected by bob',
      evidence: { source: "approval gate 'prod'", detail: 'rejected by bob' },
    });
  });

  it('holds after the current step on pause and continues on resume', () => {
    let progress = done(plan, done(plan, startRollout(plan, t0)));
    progress = advanceRollout(plan, progress, { type: 'pause', user: 'carol' }, t0);
    assert.equal(rolloutState(plan, progress), 'paused');
    assert.equal(kindOf(plan, progress), 'pause', 'the running step goes on');
    progress = done(plan, progress, t0 + 30_000);
    assert.deepEqual(progress.task, { kind: 'hold', reason: 'paused by carol', by: 'carol', resumeAt: 4 });
    assert.match(controlRefusal(plan, progress, { type: 'pause', user: 'dave' }) ?? '', /already paused/);
    progress = advanceRollout(plan, progress, { type: 'resume', user: 'carol' }, t0 + 60_000);
    assert.equal(kindOf(plan, progress), 'analysis');
    assert.equal(progress.held, null);
  });

  it('holds for a human when an analysis step is inconclusive; resuming accepts it', () => {
    let progress = startRollout(plan, t0);
    for (let i = 0; i < 3; i += 1) progress = done(plan, progress);
    assert.equal(kindOf(plan, progress), 'analysis');
    progress = advanceRollout(
      plan,
      progress,
      { type: 'inconclusive', taskId: progress.taskId, reason: 'too few requests' },
      t0,
    );
    assert.equal(rolloutState(plan, progress), 'paused');
    progress = advanceRollout(plan, progress, { type: 'resume', user: 'alice' }, t0);
    assert.equal(kindOf(plan, progress), 'approval');
  });

  it('lets the background analysis hold the rollout after its current step when it is inconclusive', () => {
    let progress = done(plan, done(plan, startRollout(plan, t0)));
    progress = advanceRollout(plan, progress, { type: 'inconclusive', reason: 'no traffic' }, t0);
    assert.deepEqual(progress.held, { by: 'analysis', reason: 'no traffic' });
    assert.equal(kindOf(plan, progress), 'pause');
    progress = done(plan, progress);
    assert.equal(progress.task.kind, 'hold');
  });

  it('aborts from any step to a rollback that names who aborted', () => {
    const progress = advanceRollout(
      plan,
      done(plan, startRollout(plan, t0)),
      { type: 'abort', user: 'bob', reason: 'bad' },
      t0,
    );
    assert.deepEqual(progress.task, {
      kind: 'rollback',
      reason: 'aborted by bob: bad',
      evidence: { source: 'abort', detail: 'bad' },
    });
  });

  it('refuses controls that do not apply, saying why', () => {
    let progress = startRollout(plan, t0);
    assert.match(
      controlRefusal(plan, progress, { type: 'promote', user: 'a', full: false }) ?? '',
      /promote skips a pause or an analysis; the rollout is at step 1 \(start 1 instance\)/,
    );
    assert.equal(controlRefusal(plan, progress, { type: 'resume', user: 'a' }), 'the rollout is not paused');
    progress = done(plan, done(plan, progress));
    assert.equal(controlRefusal(plan, progress, { type: 'promote', user: 'a', full: false }), undefined);
    assert.match(
      controlRefusal(plan, progress, { type: 'promote', user: 'a', full: true }) ?? '',
      /would skip approval gate 'prod'/,
    );
    progress = done(plan, done(plan, progress, t0 + 30_000));
    assert.match(controlRefusal(plan, progress, { type: 'promote', user: 'a', full: false }) ?? '', /needs approvals/);
    progress = advanceRollout(plan, progress, { type: 'abort', user: 'a' }, t0);
    assert.equal(controlRefusal(plan, progress, { type: 'abort', user: 'a' }), 'the rollout is rolling back');
  });

  it('skips to the final promotion with promote --full when no gate lies ahead', () => {
    const open = planRollout(
      spec({
        strategy: 'canary',
        canary: { steps: [{ set_weight: 10 }, { pause: 60 }, { set_weight: 50 }, { pause: 60 }] },
      }),
      true,
    );
    let progress = done(open, done(open, startRollout(open, t0)));
    assert.equal(controlRefusal(open, progress, { type: 'promote', user: 'a', full: true }), undefined);
    progress = advanceRollout(open, progress, { type: 'promote', user: 'a', full: true }, t0);
    assert.equal(kindOf(open, progress), 'promote');
  });
});
