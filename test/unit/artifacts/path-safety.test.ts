/** Safe extraction: a table of hostile and harmless archive headers (docs/artifacts.md). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExtractionGuard, UnsafeEntryError, type EntryHeader } from '../../../activities/artifacts/path-safety';

/** Checks `headers` in order with one guard; returns the first problem, or the normalised entries. */
function check(headers: EntryHeader[]): string | string[] {
  const guard = new ExtractionGuard();
  const accepted: string[] = [];
  try {
    for (const header of headers) {
      const safe = guard.check(header);
      if (safe) accepted.push(`${safe.type}:${safe.path}${safe.linkname ? `->${safe.linkname}` : ''}`);
    }
    guard.finish();
  } catch (error) {
    assert.ok(error instanceof UnsafeEntryError);
    return error.message;
  }
  return accepted;
}

const file = (name: string, mode = 0o644): EntryHeader => ({ name, type: 'file', mode });
const dir = (name: string): EntryHeader => ({ name, type: 'directory', mode: 0o755 });
const symlink = (name: string, linkname: string): EntryHeader => ({ name, type: 'symlink', linkname, mode: 0o777 });

describe('safe extraction refuses hostile archive entries', () => {
  const hostile: [string, EntryHeader[], RegExp][] = [
    ['an absolute path', [file('/etc/passwd')], /'\/etc\/passwd' is an absolute path/],
    ['a path through ..', [file('../outside')], /leaves the workspace through '\.\.'/],
    ['.. hidden in the middle', [file('a/b/../../../outside')], /through '\.\.'/],
    ['a NUL byte', [file('a\0b')], /NUL byte/],
    ['a symlink to an absolute path', [symlink('link', '/etc')], /symlink to the absolute path '\/etc'/],
    ['a symlink escaping with ..', [symlink('a/link', '../../outside')], /outside the workspace/],
    ['a symlink escaping from the top', [symlink('link', '..')], /outside the workspace/],
    ['a write through an earlier symlink', [symlink('sub', 'inner'), file('sub/file')], /through the symlink 'sub'/],
    [
      'a symlink leaving through an earlier symlink',
      [symlink('a/l', '..'), symlink('b', 'a/l/..')],
      /'b' is a symlink to 'a\/l\/\.\.', outside the workspace through other symlinks/,
    ],
    [
      'a symlink leaving through a later symlink',
      [symlink('b', 'a/l/../..'), symlink('a/l', '..')],
      /'b' is a symlink to 'a\/l\/\.\.\/\.\.', outside the workspace through other symlinks/,
    ],
    ['a symlink loop', [symlink('x', 'y'), symlink('y', 'x/z')], /'x' is a symlink to 'y' in a loop of symlinks/],
    ['a character device', [{ name: 'dev', type: 'character-device', mode: 0o600 }], /is a character device/],
    ['a block device', [{ name: 'disk', type: 'block-device' }], /is a block device/],
    ['a fifo', [{ name: 'pipe', type: 'fifo' }], /is a fifo/],
    ['a setuid file', [file('tool', 0o4755)], /setuid or setgid/],
    ['a setgid directory', [{ name: 'shared', type: 'directory', mode: 0o2775 }], /setuid or setgid/],
    ['a duplicate entry', [file('a'), file('a')], /appears twice/],
    ['a file replaced by a symlink', [file('a'), symlink('a', 'b')], /appears twice/],
    [
      'a hard link to a file not in the archive',
      [{ name: 'h', type: 'link', linkname: 'missing' }],
      /not an earlier file/,
    ],
    ['a hard link escaping', [file('a'), { name: 'h', type: 'link', linkname: '../a' }], /not an earlier file/],
    ['an empty file name', [file('./')], /empty name/],
  ];
  for (const [what, headers, problem] of hostile) {
    it(`refuses ${what}`, () => {
      const result = check(headers);
      assert.equal(typeof result, 'string', `accepted: ${JSON.stringify(result)}`);
      assert.match(result as string, problem);
    });
  }
});

describe('safe extraction accepts ordinary archives', () => {
  it('normalises ./ and trailing slashes, skips the root and pax global headers, keeps inner links', () => {
    assert.deepEqual(
      check([
        dir('./'),
        { name: 'pax_global_header', type: 'pax-global-header' },
        dir('./build/'),
        file('./build/app', 0o755),
        symlink('build/latest', 'app'),
        symlink('build/up', '../build/app'),
        symlink('deep/x', '../deep'),
        { name: 'build/copy', type: 'link', linkname: './build/app', mode: 0o755 },
        file('weird name ü.txt'),
      ]),
      [
        'directory:build',
        'file:build/app',
        'symlink:build/latest->app',
        'symlink:build/up->../build/app',
        'symlink:deep/x->../deep',
        'link:build/copy->build/app',
        'file:weird name ü.txt',
      ],
    );
  });

  it('keeps links that go through other links of the archive and stay inside (a pnpm layout)', () => {
    assert.deepEqual(
      check([
        symlink('node_modules/.bin/tool', '../tool/bin/cli.js'),
        file('node_modules/.pnpm/tool@1/node_modules/tool/bin/cli.js', 0o755),
        symlink('node_modules/tool', '.pnpm/tool@1/node_modules/tool'),
      ]),
      [
        'symlink:node_modules/.bin/tool->../tool/bin/cli.js',
        'file:node_modules/.pnpm/tool@1/node_modules/tool/bin/cli.js',
        'symlink:node_modules/tool->.pnpm/tool@1/node_modules/tool',
      ],
    );
  });
});
