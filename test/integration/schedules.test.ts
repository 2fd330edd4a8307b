/**
 * Pipeline schedules as Temporal Schedules, end to end: `conveyor schedules sync` inside a git work tree creates
 * one schedule per `schedule:` entry, `temporal schedule list` shows it, a one-minute cron fires on the minute and
 * runs the pipeline at the branch's latest commit on the stack's worker (sources checked out from the run's
 * archive), and `conveyor schedules pause` stops it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findTool } from '../../client/dev/processes';
import { conveyorBin, runCommand } from '../helpers/cli';
import { createWorkTree, scratchDir } from '../helpers/git';
import { eventually } from '../helpers/server';
import { config, leftoversOf, logs, testEnvironment } from '../helpers/temporal';

const name = `nightly-${randomUUID().slice(0, 8)}`;
const pipeline = `name: ${name}
triggers:
  schedule:
    - cron: "* * * * *"
      branch: main
jobs:
  build:
    steps:
      - name: show
        image: conveyor/busybox:latest
        script:
          - echo "event=$CONVEYOR_EVENT branch=$CONVEYOR_BRANCH commit=$CONVEYOR_COMMIT"
          - echo "version=$(cat VERSION)"
`;

let work = '';
let head = '';
let cleanup: () => Promise<void> = async () => undefined;
let scheduleId = '';

async function conveyorIn(cwd: string, args: string[]) {
  const result = await runCommand(conveyorBin, args, { cwd, timeoutMs: 180_000 });
  assert.equal(result.code, 0, `conveyor ${args.join(' ')}: ${result.stdout}${result.stderr}`);
  return result.stdout;
}

describe('schedules', () => {
  before(async () => {
    const scratch = await scratchDir('schedules');
    cleanup = scratch.cleanup;
    work = path.join(scratch.dir, 'app');
    head = await createWorkTree(work, { '.conveyor.yml': pipeline, VERSION: '4.2.0\n' });
  });
  after(async () => {
    const { client } = await testEnvironment();
    if (scheduleId)
      await client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    const open = client.workflow.list({ query: `ConveyorPipeline = '${name}' AND ExecutionStatus = 'Running'` });
    for await (const workflow of open) {
      await client.workflow
        .getHandle(workflow.workflowId)
        .terminate('test over')
        .catch(() => undefined);
    }
    await cleanup();
  });

  it('sync creates the schedule, Temporal lists it, it fires on the minute at the latest commit, and pause stops it', async () => {
    const { client } = await testEnvironment();
    const sync = JSON.parse(await conveyorIn(work, ['schedules', 'sync', '--json'])) as { created: string[] };
    assert.equal(sync.created.length, 1, JSON.stringify(sync));
    scheduleId = sync.created[0]!;
    assert.match(scheduleId, new RegExp(`^schedule-${name}-main-0$`));

    const temporal = findTool('temporal', config.cacheDir);
    const listed = await runCommand(temporal, ['schedule', 'list', '--address', config.temporal.address]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.includes(scheduleId), listed.stdout);
    const ls = JSON.parse(await conveyorIn(work, ['schedules', 'ls', '--json'])) as Array<Record<string, unknown>>;
    const row = ls.find((entry) => entry.id === scheduleId);
    assert.deepEqual([row?.pipeline, row?.branch, row?.cron, row?.paused], [name, 'main', '* * * * *', false]);

    // The first firing: on a minute boundary, a run of the pipeline at the branch's head.
    const runId = await eventually(
      'the first scheduled run',
      async () => {
        const runs = client.workflow.list({ query: `ConveyorPipeline = '${name}' AND WorkflowType = 'pipelineRun'` });
        for await (const run of runs) return run.workflowId;
        return undefined;
      },
      240_000,
    );
    const description = await client.schedule.getHandle(scheduleId).describe();
    const fired = description.info.recentActions[0]!;
    assert.equal(fired.scheduledAt.getUTCSeconds(), 0, `fired at ${fired.scheduledAt.toISOString()}`);
    const status = (await client.workflow.getHandle(runId).result()) as { status: string };
    assert.equal(status.status, 'success');
    const lines = (await logs.read(runId)).records.map((record) => record.line);
    assert.ok(lines.includes(`event=schedule branch=main commit=${head}`), lines.join('\n'));
    assert.ok(lines.includes('version=4.2.0'), lines.join('\n'));
    assert.deepEqual(await leftoversOf(runId), []);

    // Paused, it starts nothing: past the next minute boundary, no action was taken.
    assert.match(await conveyorIn(work, ['schedules', 'pause', scheduleId]), /paused/);
    const paused = await client.schedule.getHandle(scheduleId).describe();
    assert.equal(paused.state.paused, true);
    const taken = paused.info.numActionsTaken;
    const nextMinute = Math.ceil(Date.now() / 60_000) * 60_000;
    await new Promise((resolve) => setTimeout(resolve, nextMinute - Date.now() + 15_000));
    const later = await client.schedule.getHandle(scheduleId).describe();
    assert.equal(later.info.numActionsTaken, taken);
    assert.equal(later.state.paused, true);
  });
});
