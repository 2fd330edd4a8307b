/**
 * `conveyor dev up | down | status` end to end, on ports and a data dir of its own so it never disturbs the stack
 * the other tests use: a run survives a restart of the stack, `up` reuses what runs, a taken port is named.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findTool } from '../../client/dev/processes';
import { config } from '../helpers/temporal';
import { conveyor, lastJsonLine, runCommand } from '../helpers/cli';

const ports = { temporal: 17233, ui: 18233, s3: 19000, console: 19001 };
let dataDir = '';
let env: NodeJS.ProcessEnv = {};

async function workflowIds(): Promise<string[]> {
  const temporal = findTool('temporal', config.cacheDir);
  const listed = await runCommand(temporal, [
    'workflow',
    'list',
    '--address',
    `127.0.0.1:${ports.temporal}`,
    '-o',
    'json',
  ]);
  assert.equal(listed.code, 0, listed.stderr);
  return (JSON.parse(listed.stdout || '[]') as { execution: { workflowId: string } }[]).map(
    (w) => w.execution.workflowId,
  );
}

describe('the embedded stack (conveyor dev)', () => {
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-dev-stack-'));
    env = {
      CONVEYOR_DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
      CONVEYOR_TEMPORAL_UI_PORT: String(ports.ui),
      CONVEYOR_S3_PORT: String(ports.s3),
      CONVEYOR_S3_CONSOLE_PORT: String(ports.console),
    };
  });
  after(async () => {
    await conveyor(['dev', 'down'], { env });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts the stack, runs a pipeline on it, and still lists the run after down and up', async () => {
    const up = await conveyor(['dev', 'up'], { env });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /temporal: started/);
    assert.match(up.stdout, /minio: started/);
    assert.match(up.stdout, /worker: started/);
    assert.match(up.stdout, new RegExp(`Temporal UI: +http://localhost:${ports.ui}`));

    const status = await conveyor(['dev', 'status'], { env });
    assert.equal(status.code, 0, status.stdout);

    const again = await conveyor(['dev', 'up'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /temporal: already running/);

    const run = await conveyor(['run', 'examples/hello.yml', '--json'], { env });
    assert.equal(run.code, 0, run.stderr);
    const summary = lastJsonLine<{ runId: string; status: string }>(run.stdout);
    assert.equal(summary.status, 'success');
    assert.ok((await workflowIds()).includes(summary.runId));

    const down = await conveyor(['dev', 'down'], { env });
    assert.equal(down.code, 0, down.stderr);
    const stopped = await conveyor(['dev', 'status'], { env });
    assert.equal(stopped.code, 1, 'status exits 1 when the stack is down');

    const upAgain = await conveyor(['dev', 'up'], { env });
    assert.equal(upAgain.code, 0, upAgain.stderr);
    assert.ok((await workflowIds()).includes(summary.runId), 'the finished run survived the restart');
  });

  it('names the program holding a port it needs instead of starting', async () => {
    await conveyor(['dev', 'down'], { env });
    const squatter = net.createServer().listen(ports.s3, '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    try {
      const up = await conveyor(['dev', 'up'], { env });
      assert.notEqual(up.code, 0);
      assert.match(up.stderr, new RegExp(`port ${ports.s3} is taken by 'node' \\(pid ${process.pid}\\)`));
      assert.doesNotMatch(up.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      squatter.close();
    }
  });
});
