/**
 * The command line's contract before any server is involved: usage errors (commander's own included) exit 2 with
 * one message and no stack trace, `--version` and `--help` exit 0, and a reader that closes the pipe early ends the
 * command quietly. Runs the real `bin/conveyor` on a data dir and ports of its own, with no stack.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conveyor, conveyorBin } from '../../helpers/cli';

let dataDir = '';
let env: NodeJS.ProcessEnv = {};

describe('conveyor usage', () => {
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-usage-'));
    // Nothing listens here: commands that would reach a server fail fast instead of touching a real stack.
    env = { CONVEYOR_DATA_DIR: dataDir, TEMPORAL_ADDRESS: '127.0.0.1:1', CONVEYOR_S3_PORT: '2' };
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const usageErrors: [string, string[], RegExp][] = [
    ['an unknown command', ['deploy-everything'], /unknown command 'deploy-everything'/],
    ['an unknown option', ['run', 'x.yml', '--colour'], /unknown option '--colour'/],
    ['a missing argument', ['status'], /missing required argument 'run'/],
    ['too many arguments', ['cancel', 'a', 'b'], /too many arguments/],
    ['a bad --stream', ['logs', 'run-x', '--stream', 'stdlog'], /Allowed choices are stdout, stderr/],
    ['a bad list --status', ['list', '--status', 'green'], /Allowed choices are running, success, failed, cancelled/],
    ['a bad list --limit', ['list', '--limit', '0'], /--limit must be a positive whole number/],
    ['a malformed --var', ['run', 'examples/hello.yml', '--var', 'novalue'], /--var 'novalue' must look like/],
    ['no command at all', [], /Usage: conveyor/],
    ['a command group without its command', ['dev'], /Usage: conveyor dev/],
  ];
  for (const [what, args, message] of usageErrors) {
    it(`exits 2 on ${what}`, async () => {
      const result = await conveyor(args, { env });
      assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it('prints its version with --version and exits 0', async () => {
    const packageJson = JSON.parse(await readFile(path.resolve(__dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    };
    const result = await conveyor(['--version'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `conveyor ${packageJson.version}\n`);
  });

  it('prints help with --help and exits 0', async () => {
    const result = await conveyor(['--help'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Usage: conveyor \[options\] \[command\]/);
    assert.match(result.stdout, /rerun \[options\] <run>/);
  });

  it('ends quietly when the reader closes the pipe (conveyor dev status | head -1)', async () => {
    const child = spawn(conveyorBin, ['dev', 'status'], { env: { ...process.env, ...env } });
    // The reader goes away before the command writes anything, as `head -1` does after its line.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '', 'nothing on stderr: no EPIPE stack trace');
    assert.equal(code, 141, 'the exit status of a command stopped by SIGPIPE');
  });

  it('reports an unreachable Temporal server in one line with exit 1', async () => {
    const result = await conveyor(['status', 'run-anything'], { env });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      "conveyor: cannot reach the Temporal server at 127.0.0.1:1; start the embedded stack with 'conveyor dev up' (or set TEMPORAL_ADDRESS)\n",
    );
  });
});
