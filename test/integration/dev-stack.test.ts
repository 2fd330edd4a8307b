/**
 * `conveyor dev up | down | status` end to end, on ports and a data dir of its own so it never disturbs the stack
 * the other tests use: a run survives a restart of the stack, `up` reuses what runs and restarts a crashed worker,
 * a taken port is named, and `conveyor run` / `logs -f` keep following across restarts of the server and worker.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findTool, readServiceRecord, serviceFiles, stopService } from '../../client/dev/processes';
import { Connection } from '@temporalio/client';
import { removeByLabel } from '../../activities/docker-resources';
import { labels } from '../../activities/names';
import { clusterLabel } from '../../workers/cluster-label';
import { config, docker, leftoversWithLabel } from '../helpers/temporal';
import { conveyor, conveyorBin, lastJsonLine, runCommand, startCommand } from '../helpers/cli';
import { freePort, testPorts } from '../helpers/ports';

const ports = testPorts({ temporal: 17233, ui: 18233, s3: 19000, console: 19001 });
let dataDir = '';
let env: NodeJS.ProcessEnv = {};
let apiPort = 0;
let prometheusPort = 0;
/** This stack's cluster label: whatever a killed worker or a restart left on Docker carries it. */
let cluster: string | undefined;

/** Brings the stack up and remembers its cluster label, so the end of the file can remove what its runs left. */
async function devUp(): Promise<Awaited<ReturnType<typeof conveyor>>> {
  const up = await conveyor(['dev', 'up'], { env });
  if (up.code === 0 && !cluster) {
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      cluster = await clusterLabel(connection.workflowService, config.temporal.namespace);
    } finally {
      await connection.close();
    }
  }
  return up;
}

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

/** A pipeline whose one step prints `before`, sleeps 8 s and prints `after`. */
async function slowPipeline(): Promise<string> {
  const file = path.join(dataDir, 'slow.yml');
  await writeFile(
    file,
    [
      'name: slow',
      'jobs:',
      '  wait:',
      '    steps:',
      '      - name: sleep',
      '        image: conveyor/busybox:latest',
      '        script: ["echo before", "sleep 8", "echo after"]',
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * Prometheus is part of the stack (docs/deployments.md#metrics): `dev up` starts it on CONVEYOR_PROMETHEUS_PORT,
 * `dev status` shows it up there, and it scrapes this stack's worker (found through the worker's target file).
 */
async function assertPrometheusScrapesWorker(upOutput: string, statusOutput: string): Promise<void> {
  assert.match(upOutput, /prometheus: started/);
  assert.match(statusOutput, new RegExp(`^prometheus +up +127\\.0\\.0\\.1:${prometheusPort}`, 'm'));
  const worker = readServiceRecord(dataDir, 'worker');
  assert.ok(worker, 'the worker has a pid file');
  type Targets = { data: { activeTargets: { labels: Record<string, string>; health: string }[] } };
  let seen: Targets['data']['activeTargets'] = [];
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    const targets = (await (await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/targets`)).json()) as Targets;
    seen = targets.data.activeTargets;
    const scraped = seen.find((target) => target.labels.pid === String(worker.pid));
    if (scraped?.health === 'up') {
      assert.equal(scraped.labels.job, 'conveyor-workers');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.fail(`Prometheus never scraped the worker (pid ${worker.pid}): ${JSON.stringify(seen)}`);
}

describe('the embedded stack (conveyor dev)', () => {
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-dev-stack-'));
    apiPort = await freePort();
    env = {
      CONVEYOR_API_PORT: String(apiPort),
      CONVEYOR_PROMETHEUS_PORT: String((prometheusPort = await freePort())),
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
    if (cluster) {
      // Every run ended with its cleanup (job end, run end): nothing of this stack's runs is left on Docker.
      const left = await leftoversWithLabel(`${labels.cluster}=${cluster}`);
      await removeByLabel(docker, `${labels.cluster}=${cluster}`);
      assert.deepEqual(left, []);
    }
  });

  it('starts the stack, runs a pipeline on it, and still lists the run after down and up', async () => {
    const up = await devUp();
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /temporal: started/);
    assert.match(up.stdout, /minio: started/);
    assert.match(up.stdout, /worker: started/);
    assert.match(up.stdout, /api: started/);
    assert.match(up.stdout, new RegExp(`Temporal UI: +http://localhost:${ports.ui}`));
    assert.match(up.stdout, new RegExp(`API and web: +http://127\\.0\\.0\\.1:${apiPort}`));
    const ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
    assert.equal(ready.status, 200, 'the API server reaches Temporal and the store');

    const status = await conveyor(['dev', 'status'], { env });
    assert.equal(status.code, 0, status.stdout);
    assert.match(status.stdout, new RegExp(`^api +up +127\\.0\\.0\\.1:${apiPort}`, 'm'));
    await assertPrometheusScrapesWorker(up.stdout, status.stdout);

    const again = await devUp();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /temporal: already running/);

    const run = await conveyor(['run', 'examples/hello.yml', '--json'], { env });
    assert.equal(run.code, 0, run.stderr);
    const summary = lastJsonLine<{ runId: string; status: string }>(run.stdout);
    assert.equal(summary.status, 'success');
    assert.ok((await workflowIds()).includes(summary.runId));
    // The Temporal UI serves the run: its page, and the API its page reads, which lists it.
    const ui = `http://localhost:${ports.ui}`;
    const page = await fetch(`${ui}/namespaces/default/workflows/${summary.runId}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const query = encodeURIComponent(`WorkflowId = '${summary.runId}'`);
    const listed = (await (await fetch(`${ui}/api/v1/namespaces/default/workflows?query=${query}`)).json()) as {
      executions?: { execution: { workflowId: string } }[];
    };
    assert.deepEqual(
      listed.executions?.map((execution) => execution.execution.workflowId),
      [summary.runId],
    );

    const down = await conveyor(['dev', 'down'], { env });
    assert.equal(down.code, 0, down.stderr);
    // The worker was drained, not killed (docs/runs.md, "Stopping a worker").
    const workerLog = await readFile(serviceFiles(dataDir, 'worker').log, 'utf8');
    assert.match(workerLog, /worker: SIGTERM: draining/);
    assert.match(workerLog, /worker: drained, exiting/);
    const stopped = await conveyor(['dev', 'status'], { env });
    assert.equal(stopped.code, 1, 'status exits 1 when the stack is down');
    assert.match(stopped.stdout, new RegExp(`^prometheus +down +127\\.0\\.0\\.1:${prometheusPort}`, 'm'));

    const upAgain = await devUp();
    assert.equal(upAgain.code, 0, upAgain.stderr);
    assert.ok((await workflowIds()).includes(summary.runId), 'the finished run survived the restart');
  });

  it('completes a run across a restart of the Temporal dev server mid-step; run and logs -f follow it', async () => {
    const up = await devUp();
    assert.equal(up.code, 0, up.stderr);
    const file = await slowPipeline();
    const run = startCommand(conveyorBin, ['run', file], { env });
    const [, runId] = (await run.waitFor(/run (run-slow-\S+) started/)) as [string, string];
    await run.waitFor(/\[wait\/sleep\] before/);
    const logs = startCommand(conveyorBin, ['logs', runId, '-f'], { env });
    await logs.waitFor(/\[wait\/sleep\] before/);
    assert.equal(await stopService(dataDir, 'temporal'), true);
    const again = await devUp();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /temporal: started/);
    assert.match(again.stdout, /worker: already running/);

    const followed = await run.exited;
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /\[wait\/sleep\] after\n/);
    assert.match(followed.stdout, new RegExp(`run ${runId} succeeded`));
    assert.equal(followed.stderr.match(/lost the Temporal server at \S+; reconnecting/g)?.length, 1, followed.stderr);
    assert.doesNotMatch(followed.stderr, /could not be started or followed|stopped following/);
    const tailed = await logs.exited;
    assert.equal(tailed.code, 0, tailed.stderr);
    assert.deepEqual(tailed.stdout.trim().split('\n'), ['[wait/sleep] before', '[wait/sleep] after']);
    assert.equal(tailed.stderr.match(/lost the Temporal server at \S+; reconnecting/g)?.length, 1, tailed.stderr);
    const stored = await conveyor(['logs', runId, 'wait/sleep'], { env });
    assert.deepEqual(stored.stdout.trim().split('\n'), ['before', 'after']);
  });

  it('dev up restarts a worker killed with kill -9; runs waiting for it are told so and finish', async () => {
    const up = await devUp();
    assert.equal(up.code, 0, up.stderr);
    const file = await slowPipeline();
    const midStep = startCommand(conveyorBin, ['run', file], { env });
    await midStep.waitFor(/\[wait\/sleep\] before/);
    const worker = readServiceRecord(dataDir, 'worker');
    assert.ok(worker, 'the worker has a pid file');
    process.kill(worker.pid, 'SIGKILL');

    const down = await conveyor(['dev', 'status'], { env });
    assert.equal(down.code, 1, down.stdout);
    assert.match(down.stdout, /^worker +down /m);
    // A run started now is not picked up; its follower says so instead of waiting silently.
    const waiting = startCommand(conveyorBin, ['run', 'examples/hello.yml'], { env });
    await waiting.waitFor(/conveyor: no worker (has picked up the run after 5 s|is polling task queue)/);

    const restarted = await devUp();
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.match(restarted.stdout, /worker: started \(pid \d+/);
    assert.doesNotMatch(restarted.stdout, /worker: already running/);
    const status = await conveyor(['dev', 'status'], { env });
    assert.equal(status.code, 0, status.stdout);
    assert.match(status.stdout, /^worker +up /m);

    const late = await waiting.exited;
    assert.equal(late.code, 0, late.stderr);
    assert.match(late.stderr, /conveyor: a worker picked up the run\n/);
    const adopted = await midStep.exited;
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.match(adopted.stdout, /\[wait\/sleep\] after\n/);
  });

  it('says how to start the Docker engine when it does not answer, and starts nothing', async () => {
    await conveyor(['dev', 'down'], { env });
    const socket = path.join(dataDir, 'no-engine.sock');
    const up = await conveyor(['dev', 'up'], { env: { ...env, DOCKER_HOST: `unix://${socket}` } });
    assert.equal(up.code, 1, up.stderr);
    assert.match(up.stderr, new RegExp(`the Docker engine does not answer at unix://${socket} \\(ENOENT\\); start it`));
    assert.doesNotMatch(up.stderr, /\n\s+at /, 'no stack trace');
    const status = await conveyor(['dev', 'status'], { env });
    assert.doesNotMatch(status.stdout, /\bup\b/, status.stdout);
  });

  it('names the program holding a port it needs instead of starting', async () => {
    await conveyor(['dev', 'down'], { env });
    const squatter = net.createServer().listen(ports.s3, '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    try {
      const up = await devUp();
      assert.notEqual(up.code, 0);
      assert.match(up.stderr, new RegExp(`port ${ports.s3} is taken by 'node' \\(pid ${process.pid}\\)`));
      assert.doesNotMatch(up.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      squatter.close();
    }
  });
});
