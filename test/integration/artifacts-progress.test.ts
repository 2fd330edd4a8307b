/**
 * `conveyor artifacts get` shows a progress bar for a transfer over 50 MB on a terminal, and nothing of the kind
 * when its output is not a terminal or the artifact is small (docs/artifacts.md#cli). The real CLI runs against an
 * fs store in a temporary directory; `script` gives it a real pseudo-terminal.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ArtifactCatalog } from '../../activities/artifacts/catalog';
import { createFsStore } from '../../activities/store/fs';
import { conveyorBin, runCommand } from '../helpers/cli';

const bigBytes = 60 * 1000 * 1000;

describe('the progress bar of conveyor artifacts get', () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};

  /** Stores `file` (written under `src/`) as artifact `name` of run `progress-run`. */
  async function storeArtifact(name: string, bytes: number): Promise<void> {
    const source = path.join(dir, 'src', name);
    await mkdir(source, { recursive: true });
    const chunk = randomBytes(1 << 20);
    const parts: Buffer[] = [];
    for (let left = bytes; left > 0; left -= chunk.length) parts.push(chunk.subarray(0, Math.min(left, chunk.length)));
    await writeFile(path.join(source, 'data.bin'), Buffer.concat(parts));
    const { stdout } = await promisify(execFile)('tar', ['--format=ustar', '-C', source, '-cf', '-', 'data.bin'], {
      encoding: 'buffer',
      maxBuffer: bytes + (1 << 20),
    });
    const store = createFsStore(path.join(dir, 'store'));
    const { digest, size } = await store.putContent(Readable.from([stdout]));
    const now = new Date().toISOString();
    await new ArtifactCatalog(store).putRecord({
      version: 1,
      name,
      pipeline: 'progress',
      run: 'progress-run',
      job: 'build',
      digest: `sha256:${digest}`,
      size,
      files: 1,
      compression: 'none',
      mediaType: 'application/x-tar',
      paths: ['data.bin'],
      createdAt: now,
      lastAccessedAt: now,
      producer: { run: 'progress-run', job: 'build', jobAttempt: 1 },
    });
  }

  /** `conveyor artifacts get progress-run NAME -o DIR` on a pseudo-terminal (stdout and stderr together). */
  function onTerminal(name: string, output: string) {
    const command = `exec ${conveyorBin} artifacts get progress-run ${name} -o ${output}`;
    return runCommand('script', ['-qfec', command, '/dev/null'], { env, timeoutMs: 300_000 });
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-progress-'));
    env = { CONVEYOR_STORE: 'fs', CONVEYOR_STORE_DIR: path.join(dir, 'store'), CONVEYOR_DATA_DIR: dir };
    await storeArtifact('big', bigBytes);
    await storeArtifact('small', 1000);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('draws a bar up to 100 % on a terminal for an artifact over 50 MB', async () => {
    const output = path.join(dir, 'tty-big');
    const result = await onTerminal('big', output);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /fetching big \[[█░]+\] \d+% \| \d+\/6\d MB/);
    assert.match(result.stdout, /fetching big \[█+\] 100% \| (6\d)\/\1 MB/);
    assert.match(result.stdout, /big \(sha256:[0-9a-f]{12}…, verified\): 1 files into /);
    assert.equal((await stat(path.join(output, 'data.bin'))).size, bigBytes);
  });

  it('prints no bar when stderr is not a terminal, nor for a small artifact on a terminal', async () => {
    const piped = await runCommand(
      conveyorBin,
      ['artifacts', 'get', 'progress-run', 'big', '-o', path.join(dir, 'piped')],
      {
        env,
        timeoutMs: 300_000,
      },
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, '');
    assert.doesNotMatch(piped.stdout, /fetching|%/);
    assert.match(piped.stdout, /^big \(sha256:[0-9a-f]{12}…, verified\): 1 files into /);

    const small = await onTerminal('small', path.join(dir, 'tty-small'));
    assert.equal(small.code, 0, small.stdout + small.stderr);
    assert.doesNotMatch(small.stdout, /fetching|%/);
    assert.match(small.stdout, /small \(sha256:[0-9a-f]{12}…, verified\): 1 files into /);
  });
});
