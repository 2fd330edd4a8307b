/** Approval gates: who may decide, repeated approvers, distinct approvals, one rejection. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedUsers, gateState, refusalReason, type GateDecision } from '../../../deploy/approvals';
import type { GateSpec } from '../../../deploy/spec';

const gate: GateSpec = {
  name: 'prod',
  approvers: ['alice', 'group:release'],
  required: 2,
  timeoutSeconds: 60,
  onTimeout: 'reject',
};
const groups = { release: ['bob', 'carol'] };
const decided = (user: string, decision: GateDecision['decision']): GateDecision => ({
  gate: 'prod',
  user,
  decision,
  channel: 'cli',
  at: '2026-01-01T00:00:00Z',
});

describe('approval gates', () => {
  it('expands groups into the users who may decide', () => {
    assert.deepEqual([...allowedUsers(gate, groups)].sort(), ['alice', 'bob', 'carol']);
  });

  it('refuses a user who is not an approver, listing the approvers', () => {
    assert.equal(
      refusalReason(gate, groups, [], 'mallory', 'approve'),
      "mallory may not approve gate 'prod': approvers are alice, group:release",
    );
  });

  it('says when a named group is not defined', () => {
    assert.match(
      refusalReason(gate, {}, [], 'bob', 'approve') ?? '',
      /group release is not defined in conveyor.config.yml/,
    );
  });

  it('refuses a repeated approver, and accepts a group member', () => {
    assert.equal(refusalReason(gate, groups, [], 'bob', 'approve'), undefined);
    assert.equal(
      refusalReason(gate, groups, [decided('bob', 'approved')], 'bob', 'approve'),
      "bob has already approved gate 'prod'",
    );
    assert.equal(refusalReason(gate, groups, [decided('bob', 'refused')], 'bob', 'approve'), undefined);
  });

  it('needs `required` distinct approvals, and one rejection rejects', () => {
    assert.equal(gateState(gate, [decided('alice', 'approved')]), 'pending');
    assert.equal(gateState(gate, [decided('alice', 'approved'), decided('alice', 'approved')]), 'pending');
    assert.equal(gateState(gate, [decided('alice', 'approved'), decided('bob', 'approved')]), 'approved');
    assert.equal(gateState(gate, [decided('alice', 'approved'), decided('carol', 'rejected')]), 'rejected');
    assert.equal(gateState(gate, [decided('mallory', 'refused'), decided('x', 'refused')]), 'pending');
  });
});
