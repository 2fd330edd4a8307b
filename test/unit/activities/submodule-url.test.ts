/** Submodule URLs relative to their superproject are resolved as `git submodule` resolves them (docs/triggers.md). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSubmoduleUrl } from '../../../activities/source/repositories';

describe('resolveSubmoduleUrl', () => {
  it('resolves ../ and ./ against a local superproject path or file:// URL', () => {
    assert.equal(resolveSubmoduleUrl('/srv/git/app.git', '../lib.git'), '/srv/git/lib.git');
    assert.equal(resolveSubmoduleUrl('/srv/git/app/', './vendor/lib'), '/srv/git/app/vendor/lib');
    assert.equal(resolveSubmoduleUrl('file:///srv/git/app.git', '../lib.git'), '/srv/git/lib.git');
  });

  it('resolves against a remote superproject URL, and leaves absolute URLs alone', () => {
    assert.equal(resolveSubmoduleUrl('git://127.0.0.1:9418/app.git', '../lib.git'), 'git://127.0.0.1:9418/lib.git');
    assert.equal(
      resolveSubmoduleUrl('https://git.example.com/acme/app.git', '../shared/lib.git'),
      'https://git.example.com/acme/shared/lib.git',
    );
    assert.equal(resolveSubmoduleUrl('/srv/git/app.git', 'https://example.com/x.git'), 'https://example.com/x.git');
  });
});
