/**
 * Remediation by policy (docs/investigations.md, "Remediation"), on real runs: with `oom: auto` the investigation
 * re-runs the run at once with double the memory for the job that ran out; with `timeout: approve` it waits, shows
 * the pending action, refuses nothing-to-decide updates, and re-runs only the failed jobs once a human approves.
 * `conveyor incidents remediate` decides from the CLI. Every action is on the incident's actions list. The policy comes from conveyor.config.yml (CONVEYOR_CONFIG).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchRunInput } from '../../client/runs';
import { remediationUpdate } from '../../workflows/investigation-messages';
import { conveyor } from '../helpers/cli';
import { incidentWhen, withInvestigations } from '../helpers/incidents';
import { job, pipeline, step } from '../helpers/models';
import { runResult } from '../helpers/runs';
import { closeTestEnvironment, testEnvironment, uniqueTaskQueue } from '../helpers/temporal';

let dir: string;
const previousConfig = process.env.CONVEYOR_CONFIG;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-remediation-'));
  const file = path.join(dir, 'conveyor.config.yml');
  await writeFile(file, 'investigations:\n  remediation:\n    oom: auto\n    timeout: approve\n');
  process.env.CONVEYOR_CONFIG = file;
});
after(async () => {
  if (previousConfig === undefined) delete process.env.CONVEYOR_CONFIG;
  else process.env.CONVEYOR_CONFIG = previousConfig;
  await rm(dir, { recursive: true, force: true });
  await closeTestEnvironment();
});

const unique = (name: string) => `inv-remedy-${name}-${randomUUID().slice(0, 8)}`;

describe('remediation policies', () => {
  it('auto: re-runs an out-of-memory run with double the memory, once, and records it', async () => {
    const { client } = await testEnvironment();
    await withInvestigations('inv-remedy-auto', async (bench) => {
      const model = pipeline(unique('oom'), [
        job(
          'build',
          [
            step('main', ['node -e "const kept = []; for (;;) kept.push(Buffer.alloc(1 << 20, 1))"'], {
              image: 'conveyor/node:18',
            }),
          ],
          { resources: { memoryBytes: 64 * 1024 * 1024, cpus: 1 } },
        ),
      ]);
      const { runId, status } = await bench.run(model);
      assert.ok(status.incident);
      const incident = await bench.investigated(status.incident);
      assert.equal(incident.rootCause?.cause, 'oom');
      const remedy = `${status.incident}-remedy`;
      assert.equal(incident.actions.length, 1, incident.actions.join('\n'));
      assert.match(
        incident.actions[0]!,
        new RegExp(`re-ran ${runId} with job 'build' memory 64 MiB → 256 MiB: run ${remedy} \\(policy auto\\)$`),
      );
      const input = await fetchRunInput(client, remedy);
      assert.equal(input.rerunOf, runId);
      assert.equal(input.trigger, 'remediation');
      assert.equal(input.pipeline.jobs[0]!.resources.memoryBytes, 256 * 1024 * 1024);
      // The re-run really ran (it runs out of memory again: the same failure joins the open incident).
      const again = await runResult(client.workflow.getHandle(remedy));
      assert.equal(again.jobs.build?.reason, 'oom_killed');
      assert.equal(again.incident, status.incident);
      const joined = await incidentWhen(status.incident, (view) => view.count === 2, 'the re-run to join');
      assert.equal(joined.actions.length, 1, 'the action was taken once');
    });
  });

  it('approve: waits for a human, then re-runs only the failed jobs', async () => {
    const { client } = await testEnvironment();
    await withInvestigations('inv-remedy-approve', async (bench) => {
      const model = pipeline(unique('timeout'), [
        job('prepare', [step('main', ['echo ready'])]),
        job('build', [step('main', ['sleep 60'], { timeoutSeconds: 2 })], { dependsOn: ['prepare'] }),
      ]);
      const { runId, status } = await bench.run(model);
      assert.ok(status.incident);
      const handle = client.workflow.getHandle(status.incident);
      const waiting = await incidentWhen(
        status.incident,
        (view) => view.pendingRemediation !== undefined,
        'the remediation to wait for approval',
      );
      assert.equal(waiting.rootCause?.cause, 'timeout');
      assert.equal(waiting.stage, 'remediate');
      assert.deepEqual(
        { cause: waiting.pendingRemediation?.cause, action: waiting.pendingRemediation?.action },
        { cause: 'timeout', action: 'rerun_failed' },
      );
      assert.match(waiting.actions.at(-1)!, /rerun_failed for timeout waits for approval$/);

      await handle.executeUpdate(remediationUpdate, { args: [{ approve: true, by: 'alice' }] });
      const done = await incidentWhen(status.incident, (view) => view.stage === 'done', 'the approved remediation');
      const remedy = `${status.incident}-remedy`;
      assert.match(
        done.actions.at(-1)!,
        new RegExp(`re-ran the failed jobs of ${runId}: run ${remedy} \\(approved by alice\\)$`),
      );
      assert.equal(done.pendingRemediation, undefined);
      // Nothing is pending any more: a second decision is refused with the reason.
      await assert.rejects(
        handle.executeUpdate(remediationUpdate, { args: [{ approve: true, by: 'bob' }] }),
        (error: Error) => /has no remediation waiting for approval/.test(String((error.cause as Error)?.message)),
      );
      const input = await fetchRunInput(client, remedy);
      assert.deepEqual(Object.keys(input.reuse ?? {}), ['prepare'], 'the successful job is taken over');
      const again = await runResult(client.workflow.getHandle(remedy));
      assert.equal(again.jobs.build?.status, 'failed');
    });
  });

  it('conveyor incidents remediate: rejects with a reason, refuses a second decision and bad usage', async () => {
    await withInvestigations('inv-remedy-cli', async (bench) => {
      const model = pipeline(unique('cli'), [job('build', [step('main', ['sleep 60'], { timeoutSeconds: 2 })])]);
      const { runId, status } = await bench.run(model);
      const id = status.incident;
      assert.ok(id);
      await incidentWhen(id, (view) => view.pendingRemediation !== undefined, 'the remediation to wait for approval');

      const neither = await conveyor(['incidents', 'remediate', id]);
      assert.equal(neither.code, 2, neither.stderr);
      assert.match(neither.stderr, /give exactly one of --approve or --reject/);
      const both = await conveyor(['incidents', 'remediate', id, '--approve', '--reject']);
      assert.equal(both.code, 2, both.stderr);
      const unknown = await conveyor(['incidents', 'remediate', `${id}-nope`, '--approve']);
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /no incident '.*-nope' \(list incidents with 'conveyor incidents ls'\)/);

      const rejected = await conveyor(
        ['incidents', 'remediate', id, '--reject', '--reason', 'the runner is drained', '--json'],
        { env: { CONVEYOR_USER: 'carol' } },
      );
      assert.equal(rejected.code, 0, rejected.stderr);
      assert.deepEqual(JSON.parse(rejected.stdout), {
        id,
        decision: 'rejected',
        cause: 'timeout',
        action: 'rerun_failed',
        by: 'carol',
        reason: 'the runner is drained',
        via: 'update',
      });
      const done = await incidentWhen(id, (view) => view.stage === 'done', 'the rejection to be recorded');
      assert.match(done.actions.at(-1)!, /rerun_failed rejected by carol: the runner is drained$/);
      assert.equal(done.pendingRemediation, undefined);

      const second = await conveyor(['incidents', 'remediate', id, '--approve']);
      assert.equal(second.code, 1, second.stderr);
      assert.match(
        second.stderr,
        new RegExp(`cannot decide the remediation of ${id}: incident ${id} has no remediation waiting for approval`),
      );
      assert.equal(second.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
      const { client } = await testEnvironment();
      await assert.rejects(
        client.workflow.getHandle(`${id}-remedy`).describe(),
        /not found/i,
        `no re-run of ${runId} was started`,
      );
    });
  });

  it('conveyor incidents remediate with no worker running: sent as a signal, applied once a worker runs', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('inv-remedy-idle');
    let id: string | undefined;
    try {
      await withInvestigations(
        'inv-remedy-idle',
        async (bench) => {
          const model = pipeline(unique('idle'), [job('build', [step('main', ['sleep 60'], { timeoutSeconds: 2 })])]);
          id = (await bench.run(model)).status.incident;
          assert.ok(id);
          await incidentWhen(id, (view) => view.pendingRemediation !== undefined, 'the remediation to wait');
        },
        { taskQueue, keepOpen: true },
      );
      // The workers have stopped: nothing polls the incident's task queue, so an update would wait forever.
      const decided = await conveyor(
        ['incidents', 'remediate', id!, '--reject', '--reason', 'no runner today', '--json'],
        { env: { CONVEYOR_USER: 'dave' } },
      );
      assert.equal(decided.code, 0, decided.stderr);
      const outcome = JSON.parse(decided.stdout) as Record<string, string>;
      assert.deepEqual(
        { id: outcome.id, decision: outcome.decision, by: outcome.by, reason: outcome.reason, via: outcome.via },
        { id, decision: 'rejected', by: 'dave', reason: 'no runner today', via: 'signal' },
      );
      assert.match(
        outcome.message!,
        new RegExp(
          `^no worker (polls task queue '${taskQueue}'|of task queue '${taskQueue}' answered within \\d+ s): the ` +
            `decision was sent as a signal, checked and applied when a worker runs \\(see 'conveyor incidents show ${id}'\\)$`,
        ),
      );
      const text = await conveyor(['incidents', 'remediate', id!, '--approve'], { env: { CONVEYOR_USER: 'erin' } });
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^${id}: approved by erin; no worker .* sent as a signal`));
      assert.equal(text.stdout.trim().split('\n').length, 1, 'one line');

      await withInvestigations(
        'inv-remedy-idle',
        async (bench) => {
          const done = await bench.investigated(id!);
          assert.match(done.actions.at(-1)!, /rerun_failed rejected by dave: no runner today$/);
          assert.equal(done.pendingRemediation, undefined);
          const ignored = await incidentWhen(
            id!,
            (view) => view.timeline.some((entry) => entry.what.includes('approval by erin ignored')),
            'the second decision to be noted as ignored',
          );
          assert.match(
            ignored.timeline.map((entry) => entry.what).join('\n'),
            /remediation approval by erin ignored: no remediation was waiting for approval/,
          );
        },
        { taskQueue },
      );
      await assert.rejects(client.workflow.getHandle(`${id}-remedy`).describe(), /not found/i, 'nothing re-ran');
    } finally {
      if (id) {
        await client.workflow
          .getHandle(id)
          .terminate('test over')
          .catch(() => undefined);
      }
    }
  });
});
