/** Identities and roles from the `access:` section: tokens by digest, Slack ids, groups, per-environment roles. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessSchema } from '../../../config/access';
import { newToken, tokenDigest } from '../../../config/access-tokens';
import { parseConfigFile } from '../../../config/config-file';
import { AccessControl } from '../../../server/access-control';

const alice = newToken('alice');
const bob = newToken('bob');
const access = new AccessControl(
  accessSchema.parse({
    users: {
      alice: { name: 'Alice', groups: ['release'], slack: 'U0ALICE01', roles: ['viewer'] },
      bob: { roles: ['operator'], environments: { staging: ['approver'] } },
      carol: {},
    },
    groups: { release: { environments: { production: ['approver', 'operator'] } } },
    tokens: [alice.entry, bob.entry],
  }),
);

describe('access control', () => {
  it('knows a token only by its digest, and never stores the token', () => {
    assert.equal(access.identifyToken(alice.token)?.user, 'alice');
    assert.equal(access.identifyToken(bob.token)?.name, 'bob');
    assert.equal(access.identifyToken(`${alice.token}x`), undefined);
    assert.equal(alice.entry.sha256, tokenDigest(alice.token));
    assert.ok(!JSON.stringify(alice.entry).includes(alice.token));
    assert.match(alice.token, /^cvy_[A-Za-z0-9_-]{43}$/);
  });

  it('maps a Slack user id to its Conveyor user', () => {
    assert.deepEqual(access.identifySlackUser('U0ALICE01'), { user: 'alice', name: 'Alice', groups: ['release'] });
    assert.equal(access.identifySlackUser('U0SOMEONE'), undefined);
  });

  it('combines own and group roles, everywhere and per environment; operator and approver imply viewer', () => {
    assert.deepEqual([...access.roles('alice')].sort(), ['viewer']);
    assert.deepEqual([...access.roles('alice', 'production')].sort(), ['approver', 'operator', 'viewer']);
    assert.deepEqual([...access.roles('alice', 'staging')].sort(), ['viewer']);
    assert.deepEqual([...access.roles('bob')].sort(), ['operator', 'viewer']);
    assert.deepEqual([...access.roles('bob', 'staging')].sort(), ['approver', 'operator', 'viewer']);
    assert.equal(access.allows('carol', 'viewer'), false);
    assert.equal(access.allows('nobody', 'viewer'), false);
    assert.deepEqual(access.usersWith('approver', 'production'), ['alice']);
  });

  it('grants a role "anywhere" through one environment of the user or a group, for lists', () => {
    assert.deepEqual(access.environments('alice'), ['production']);
    assert.equal(access.allowsAnywhere('alice', 'approver'), true);
    assert.equal(access.allowsAnywhere('bob', 'approver'), true);
    assert.equal(access.allowsAnywhere('carol', 'viewer'), false);
    assert.equal(access.allowsAnywhere('nobody', 'viewer'), false);
  });

  it('reports config mistakes with their place: unknown group, unknown token user, a Slack id used twice', () => {
    const text = [
      'access:',
      '  users:',
      '    alice: {groups: [relase], slack: U0SAME001}',
      '    bob: {slack: U0SAME001}',
      '  groups:',
      '    release: {}',
      '  tokens:',
      `    - {id: tok_1, user: alcie, sha256: ${'a'.repeat(64)}}`,
      '',
    ].join('\n');
    assert.throws(
      () => parseConfigFile(text, 'c.yml'),
      (error: Error) => {
        assert.match(error.message, /c\.yml:3:\d+ .*unknown group 'relase' \(did you mean 'release'\?\)/);
        assert.match(error.message, /c\.yml:4:\d+ .*Slack user U0SAME001 is already mapped to 'alice'/);
        assert.match(error.message, /c\.yml:8:\d+ .*unknown user 'alcie' \(did you mean 'alice'\?\)/);
        return true;
      },
    );
    assert.throws(
      () => parseConfigFile('access:\n  users:\n    alice: {roles: [admin]}\n', 'c.yml'),
      /c\.yml:3:\d+.*admin/,
    );
  });
});
