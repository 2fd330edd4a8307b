/** Approval groups come from the access section: a group's members are the users who list it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approvalGroups } from '../../config/approval-groups';
import { parseConfigFile } from '../../config/config-file';

describe('approval groups', () => {
  it('are the users who list a group, and an empty list for a group nobody lists', () => {
    const file = parseConfigFile(
      'access:\n  users:\n    alice: {groups: [release]}\n    bob: {groups: [release, ops]}\n    carol: {}\n' +
        '  groups:\n    release: {}\n    ops: {}\n    audit: {}\n',
      'c.yml',
    );
    assert.deepEqual(approvalGroups(file), { release: ['alice', 'bob'], ops: ['bob'], audit: [] });
  });

  it('are empty without an access section', () => {
    assert.deepEqual(approvalGroups(parseConfigFile('version: 1\n', 'c.yml')), {});
  });
});
