/**
 * Packing: canonical order, which files an artifact's paths select, and deterministic archives (docs/artifacts.md).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { comparePaths, entriesUnder, type SourceEntry } from '../../../activities/artifacts/archive-entry';
import { archiveEntries, inspectArchive } from '../../../activities/artifacts/archive-read';
import { ArtifactSelector, UnsafePatternError } from '../../../activities/artifacts/select';
import { normalisedMtime, OutOfOrderError, packArchive } from '../../../activities/artifacts/tar-pack';
import { guardEntries } from '../../../activities/artifacts/transfer';
import { UnsafeEntryError } from '../../../activities/artifacts/path-safety';

/** A file tree as `path → content`; a path ending in `/` is a directory, `@target` content makes a symlink. */
type Tree = Record<string, string>;

/** The tree's entries in canonical order, the way a workspace walk yields them. */
async function* entriesOf(tree: Tree, modes: Record<string, number> = {}): AsyncIterable<SourceEntry> {
  const paths = Object.keys(tree)
    .map((key) => key.replace(/\/$/, ''))
    .sort(comparePaths);
  for (const path of paths) {
    const content = tree[path] ?? tree[`${path}/`];
    if (tree[`${path}/`] !== undefined) {
      yield { path, type: 'directory', mode: modes[path] ?? 0o700, size: 0 };
    } else if (content!.startsWith('@')) {
      yield { path, type: 'symlink', mode: 0o777, size: 0, linkname: content!.slice(1) };
    } else {
      const data = Buffer.from(content!);
      yield { path, type: 'file', mode: modes[path] ?? 0o640, size: data.length, body: Readable.from([data]) };
    }
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

async function select(tree: Tree, patterns: string[]): Promise<{ paths: string[]; unmatched: string[] }> {
  const selector = new ArtifactSelector(patterns);
  const selected = await collect(selector.select(entriesOf(tree)));
  for (const entry of selected) entry.body?.resume();
  return { paths: selected.map((entry) => entry.path), unmatched: selector.unmatched() };
}

async function packDigest(entries: AsyncIterable<SourceEntry>): Promise<{ digest: string; bytes: Buffer }> {
  const { stream, summary } = packArchive(entries);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  await summary;
  const bytes = Buffer.concat(chunks);
  return { digest: createHash('sha256').update(bytes).digest('hex'), bytes };
}

describe('canonical order', () => {
  it('orders paths segment by segment, bytewise, a directory before its contents', () => {
    const paths = ['b', 'a.txt', 'a/z', 'a', 'A', 'a-b/c', 'a/b/c', 'é', 'z', 'a/b'];
    assert.deepEqual([...paths].sort(comparePaths), ['A', 'a', 'a/b', 'a/b/c', 'a/z', 'a-b/c', 'a.txt', 'b', 'z', 'é']);
  });

  it('puts the directories leading to each base before it', async () => {
    const walk = (base: string) => entriesOf({ [`${base}/`]: '', [`${base}/f`]: 'x' });
    const paths = (await collect(entriesUnder(['a/b/c', 'a/d'], walk))).map((entry) => entry.path);
    assert.deepEqual(paths, ['a', 'a/b', 'a/b/c', 'a/b/c/f', 'a/d', 'a/d/f']);
  });
});

describe('selecting files by path and glob', () => {
  const tree: Tree = {
    'build/': '',
    'build/app.jar': 'jar',
    'build/lib/': '',
    'build/lib/dep.jar': 'dep',
    'build/notes.txt': 'n',
    'build/.hidden': 'h',
    'empty/': '',
    'reports/': '',
    'reports/unit/': '',
    'reports/unit/a.xml': '<a/>',
    'reports/unit/b.json': '{}',
    'reports/it.xml': '<it/>',
    'top.txt': 't',
    'a.log': 'a',
    'b.log': 'b',
    'c1.tmp': 'c',
    'node_modules/': '',
    'node_modules/x.js': 'x',
  };
  const cases: [string, string[], string[], string[]?][] = [
    [
      'a directory takes everything under it, dotfiles included',
      ['build'],
      ['build', 'build/.hidden', 'build/app.jar', 'build/lib', 'build/lib/dep.jar', 'build/notes.txt'],
    ],
    ['a trailing slash and ./ mean the same directory', ['./build/lib/'], ['build', 'build/lib', 'build/lib/dep.jar']],
    [
      '** crosses directories; parents come along',
      ['reports/**/*.xml'],
      ['reports', 'reports/it.xml', 'reports/unit', 'reports/unit/a.xml'],
    ],
    [
      '** at the start searches the whole workspace',
      ['**/*.jar'],
      ['build', 'build/app.jar', 'build/lib', 'build/lib/dep.jar'],
    ],
    ['* stays within one directory', ['*.txt'], ['top.txt']],
    ['? is one character', ['c?.tmp'], ['c1.tmp']],
    ['brace sets choose among names', ['{a,b}.log'], ['a.log', 'b.log']],
    ['an empty directory is kept when named', ['empty'], ['empty']],
    ['a file named exactly', ['build/notes.txt'], ['build', 'build/notes.txt']],
    [
      'overlapping patterns select once',
      ['build/lib', 'build/lib/dep.jar'],
      ['build', 'build/lib', 'build/lib/dep.jar'],
    ],
    [
      'a pattern that selects nothing is reported',
      ['build/app.jar', 'dist/**'],
      ['build', 'build/app.jar'],
      ['dist/**'],
    ],
  ];
  for (const [what, patterns, expected, unmatched = []] of cases) {
    it(what, async () => {
      assert.deepEqual(await select(tree, patterns), { paths: expected, unmatched });
    });
  }

  it('reads only what the patterns can reach', () => {
    assert.deepEqual(new ArtifactSelector(['reports/**/*.xml', 'build', 'build/lib/x', 'top.txt']).bases(), [
      'build',
      'reports',
      'top.txt',
    ]);
    assert.deepEqual(new ArtifactSelector(['a/b', '**/*.xml']).bases(), ['']);
    assert.deepEqual(new ArtifactSelector(['.']).bases(), ['']);
    assert.deepEqual(new ArtifactSelector(['{a,b}.log']).bases(), ['']);
  });

  it('refuses patterns that leave the workspace', () => {
    assert.throws(() => new ArtifactSelector(['../secrets']), UnsafePatternError);
    assert.throws(() => new ArtifactSelector(['/etc/passwd']), /absolute/);
  });
});

describe('deterministic archives', () => {
  const tree: Tree = {
    'dist/': '',
    'dist/app': '#!/bin/sh\necho hi\n',
    'dist/readme.md': 'read me',
    'dist/latest': '@app',
  };

  it('give the same bytes whatever the modes, owners and times of the files, keeping only the x bit', async () => {
    const one = await packDigest(entriesOf(tree, { 'dist/app': 0o755, 'dist/readme.md': 0o600, dist: 0o700 }));
    const two = await packDigest(entriesOf(tree, { 'dist/app': 0o711, 'dist/readme.md': 0o664, dist: 0o775 }));
    assert.equal(one.digest, two.digest);
    const three = await packDigest(entriesOf(tree, { 'dist/app': 0o644 }));
    assert.notEqual(three.digest, one.digest, 'the executable bit is part of the content');
  });

  it('normalise every header: owner 0:0 without names, one mtime, modes 0755/0644', async () => {
    const { bytes } = await packDigest(entriesOf(tree, { 'dist/app': 0o750, 'dist/readme.md': 0o600 }));
    const extract = tar.extract();
    const headers: tar.Header[] = [];
    extract.on('entry', (header, stream, next) => {
      headers.push(header);
      stream.on('end', () => next());
      stream.resume();
    });
    await new Promise<void>((resolve, reject) => {
      extract.on('finish', resolve);
      extract.on('error', reject);
      extract.end(bytes);
    });
    assert.deepEqual(
      headers.map((h) => [h.name, h.type, h.mode, h.uid, h.gid, h.uname, h.gname, h.mtime.toISOString()]),
      [
        ['dist', 'directory', 0o755, 0, 0, '', '', normalisedMtime.toISOString()],
        ['dist/app', 'file', 0o755, 0, 0, '', '', normalisedMtime.toISOString()],
        ['dist/latest', 'symlink', 0o777, 0, 0, '', '', normalisedMtime.toISOString()],
        ['dist/readme.md', 'file', 0o644, 0, 0, '', '', normalisedMtime.toISOString()],
      ],
    );
  });

  it('read back as the same entries and contents', async () => {
    const { bytes } = await packDigest(entriesOf(tree));
    const back: string[] = [];
    for await (const entry of archiveEntries(Readable.from([bytes]), 'none')) {
      const content = entry.body ? Buffer.concat(await collect(entry.body as AsyncIterable<Buffer>)).toString() : '';
      back.push(`${entry.type} ${entry.path} ${entry.linkname ?? ''}${content}`);
    }
    assert.deepEqual(back, [
      'directory dist ',
      'file dist/app #!/bin/sh\necho hi\n',
      'symlink dist/latest app',
      'file dist/readme.md read me',
    ]);
    assert.deepEqual(await inspectArchive(Readable.from([bytes]), 'none'), {
      files: 2,
      directories: 1,
      symlinks: 1,
      contentBytes: 25,
    });
  });

  it('refuse a source that is not in canonical order', async () => {
    async function* unordered(): AsyncIterable<SourceEntry> {
      yield { path: 'b', type: 'file', mode: 0o644, size: 1, body: Readable.from([Buffer.from('b')]) };
      yield { path: 'a', type: 'file', mode: 0o644, size: 1, body: Readable.from([Buffer.from('a')]) };
    }
    await assert.rejects(packDigest(unordered()), OutOfOrderError);
  });

  it('refuse to pack what extraction would refuse: an escaping symlink, a fifo', async () => {
    await assert.rejects(packDigest(guardEntries(entriesOf({ out: '@../../etc' }))), UnsafeEntryError);
    async function* fifo(): AsyncIterable<SourceEntry> {
      yield { path: 'pipe', type: 'other', mode: 0o644, size: 0 };
    }
    await assert.rejects(packDigest(guardEntries(fifo())), /'pipe' is a special file/);
  });
});
