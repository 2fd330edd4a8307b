/** `conveyor token create | revoke` on the configuration file: digest only, comments kept, clear refusals. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createTokenInFile, revokeTokenInFile, tokenDigest } from '../../../config/access-tokens';
import { readConfigFile } from '../../../config/config-file';

const dir = mkdtempSync(path.join(tmpdir(), 'conveyor-tokens-'));

describe('API tokens in conveyor.config.yml', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('appends the digest of a new token, keeps the file comments, and can revoke it', () => {
    const file = path.join(dir, 'conveyor.config.yml');
    writeFileSync(file, '# who may do what\naccess:\n  users:\n    alice: {roles: [operator]} # the release lead\n');
    const { token, id } = createTokenInFile(file, 'alice', 'laptop');
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(token), 'the token itself is not stored');
    assert.ok(text.includes(tokenDigest(token)));
    assert.match(text, /^# who may do what$/m);
    assert.match(text, /# the release lead/);
    const tokens = readConfigFile(file).access?.tokens ?? [];
    assert.deepEqual(
      tokens.map((entry) => [entry.id, entry.user, entry.description]),
      [[id, 'alice', 'laptop']],
    );
    createTokenInFile(file, 'alice');
    assert.equal(readConfigFile(file).access?.tokens.length, 2);
    assert.equal(revokeTokenInFile(file, id), 'alice');
    assert.deepEqual(
      readConfigFile(file).access?.tokens.map((entry) => entry.id === id),
      [false],
    );
  });

  it('refuses a user that is not defined, with a did-you-mean, and an unknown token id', () => {
    const file = path.join(dir, 'users.yml');
    writeFileSync(file, 'access:\n  users:\n    alice: {roles: [viewer]}\n');
    assert.throws(() => createTokenInFile(file, 'alcie'), /no user 'alcie' under access\.users .*did you mean 'alice'/);
    assert.throws(() => revokeTokenInFile(file, 'tok_missing'), /no token 'tok_missing'/);
    assert.throws(() => createTokenInFile(path.join(dir, 'new.yml'), 'alice'), /no user 'alice'/);
  });
});
