/**
 * An investigation survives its worker (docs/investigations.md): the worker is killed with SIGKILL while the
 * incident is being investigated, a new worker takes over, and the investigation completes with every stage and
 * every hypothesis' check completed exactly once — the finished ones are not run again, because their results are
 * in the workflow's history.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { incidentQuery, type IncidentView } from '../../workflows/investigation-messages';
import { pipelineKey, statusKey, triggerKey } from '../../workflows/search-attributes';
import { activityRuns } from '../helpers/activity-history';
import { job, pipeline, step } from '../helpers/models';
import { fastOptions, runResult } from '../helpers/runs';
import { closeTestEnvironment, testEnvironment, uniqueTaskQueue } from '../helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

after(closeTestEnvironment);

describe('investigation crash safety', () => {
  it('completes an investigation whose worker is killed with SIGKILL mid-way, running each check once', async () => {
    const { client } = await testEnvironment();
    const taskQueue = uniqueTaskQueue('inv-crash');
    // A long output makes every check's log search take a while: the crash lands among them.
    const model = pipeline(`inv-crash-${randomUUID().slice(0, 8)}`, [
      job('build', [step('main', ['seq 1 200000', 'echo "error: the build broke" >&2', 'exit 1'])]),
    ]);
    let worker: WorkerProcess | undefined = await startWorkerProcess(taskQueue);
    let incident: string | undefined;
    try {
      const runId = `run-test-${taskQueue}`;
      const handle = await client.workflow.start('pipelineRun', {
        taskQueue,
        workflowId: runId,
        args: [{ pipeline: model, vars: {}, trigger: 'test', options: fastOptions }],
        typedSearchAttributes: [
          { key: pipelineKey, value: model.name },
          { key: statusKey, value: 'running' },
          { key: triggerKey, value: 'test' },
        ],
      });
      const status = await runResult(handle);
      incident = status.incident;
      assert.ok(incident, 'the failed run names its incident');

      // Kill the worker as soon as the investigation is under way.
      const incidentHandle = client.workflow.getHandle(incident);
      let stageAtCrash: string | undefined;
      const deadline = Date.now() + 240_000;
      while (!stageAtCrash) {
        const view = await incidentHandle.query(incidentQuery).catch(() => undefined);
        if (view && view.stage !== 'waiting') stageAtCrash = view.stage;
        else if (Date.now() > deadline) throw new Error('the investigation did not start');
        else await delay(50);
      }
      await worker.crash();
      const crashed = worker.child.pid;
      worker = undefined;
      assert.notEqual(stageAtCrash, 'done', 'the worker was killed before the report');

      worker = await startWorkerProcess(taskQueue);
      let view: IncidentView | undefined;
      const done = Date.now() + 300_000;
      while (view?.stage !== 'done') {
        if (Date.now() > done) throw new Error(`not investigated after the restart: ${JSON.stringify(view)}`);
        await delay(250);
        view = await incidentHandle.query(incidentQuery).catch(() => undefined);
      }
      assert.equal(view.rootCause?.cause, 'script_error');
      assert.ok(view.reports.rca);

      const completed = (await activityRuns(client, incident)).filter((run) => run.outcome === 'completed');
      const count = (type: string, cause?: string) =>
        completed.filter((run) => run.type === type && (cause === undefined || run.cause === cause)).length;
      assert.equal(count('frameFailure'), 1);
      assert.equal(count('planHypotheses'), 1);
      assert.equal(count('reportIncident'), 1);
      assert.ok(view.hypotheses.length > 1);
      for (const hypothesis of view.hypotheses) {
        assert.equal(count('checkHypothesis', hypothesis.cause), 1, `check ${hypothesis.cause} completed once`);
      }
      // Part of the investigation ran on the new worker: the crash was mid-way.
      assert.ok(
        completed.some((run) => !run.identity.startsWith(`${crashed}@`) && run.type !== 'indexIncident'),
        `nothing ran after the restart (crash at stage ${stageAtCrash}): ${JSON.stringify(completed)}`,
      );
    } finally {
      await worker?.stop();
      if (incident) {
        await client.workflow
          .getHandle(incident)
          .terminate('test over')
          .catch(() => undefined);
      }
    }
  });
});
