/**
 * Investigation tests: real runs of pipelines on the dev server with real workers, whose failures open incidents
 * the same workers investigate. Every incident a test opened is terminated at the end (they stay open until
 * resolved).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { PipelineModel } from '../../pipeline/model';
import type { IncidentDocument } from '../../activities/investigation/records';
import { incidentQuery, type IncidentView } from '../../workflows/investigation-messages';
import type { PipelineRunInput, PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import type { ArtifactStore } from '../../activities/store/store';
import { createStoreFromConfig } from '../../workers/stores';
import { pipelineKey, statusKey, triggerKey } from '../../workflows/search-attributes';
import { fastOptions, runResult } from './runs';
import { config, testEnvironment, uniqueTaskQueue, withWorkers } from './temporal';

/** The stack's artifact store, where investigations keep their documents. */
export const incidentStore = createStoreFromConfig(config);

/** Polls an incident workflow until `done` holds (four minutes at most, then fails naming `what` and its state). */
export async function incidentWhen(
  id: string,
  done: (view: IncidentView) => boolean,
  what: string,
): Promise<IncidentView> {
  const { client } = await testEnvironment();
  const deadline = Date.now() + 240_000;
  let last: IncidentView | undefined;
  while (Date.now() < deadline) {
    last = await client.workflow
      .getHandle(id)
      .query(incidentQuery)
      .catch(() => undefined);
    if (last && done(last)) return last;
    await delay(250);
  }
  throw new Error(`timed out waiting for ${what} of incident ${id}: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

/** Polls an incident workflow until its report is done. */
export function investigated(id: string): Promise<IncidentView> {
  return incidentWhen(id, (view) => view.stage === 'done', 'the report');
}

/** What an investigation test can do while its workers run. */
export interface InvestigationBench {
  taskQueue: string;
  /** Runs a pipeline to its end; a failed run's status names its incident. */
  run(
    model: PipelineModel,
    vars?: Record<string, string>,
    /** Jobs a re-run takes over (`PipelineRunInput.reuse`). */
    reuse?: PipelineRunInput['reuse'],
  ): Promise<{ runId: string; status: PipelineRunStatus }>;
  /** Waits until the incident's investigation has reported (or it is resolved) and returns it. */
  investigated(incidentId: string): Promise<IncidentView>;
  /** The markdown of a stored document. */
  document(key: string | undefined): Promise<string>;
}

let runs = 0;

/**
 * Runs `body` with workers on a fresh task queue (or `options.taskQueue`); terminates every incident opened on it
 * afterwards unless `options.keepOpen`.
 */
export async function withInvestigations<T>(
  prefix: string,
  body: (bench: InvestigationBench) => Promise<T>,
  options: {
    secrets?: Record<string, string>;
    /** The workers' artifact store, where the documents go too (default: the stack's, `incidentStore`). */
    store?: ArtifactStore;
    scratchDir?: string;
    /** Serve this task queue (a second session of workers on an earlier one) instead of a fresh one. */
    taskQueue?: string;
    /** Leave the incidents running at the end (the test terminates them itself, in its own `finally`). */
    keepOpen?: boolean;
  } = {},
): Promise<T> {
  const env = await testEnvironment();
  const taskQueue = options.taskQueue ?? uniqueTaskQueue(prefix);
  const incidents = new Set<string>();
  const bench: InvestigationBench = {
    taskQueue,
    async run(model, vars = {}, reuse) {
      runs += 1;
      const runId = `run-test-${taskQueue}-${runs}`;
      const handle = await env.client.workflow.start('pipelineRun', {
        taskQueue,
        workflowId: runId,
        args: [{ pipeline: model, vars, trigger: 'test', options: fastOptions, ...(reuse && { reuse }) }],
        // As `conveyor run` starts runs: the investigation finds the last green run by these.
        typedSearchAttributes: [
          { key: pipelineKey, value: model.name },
          { key: statusKey, value: 'running' },
          { key: triggerKey, value: 'test' },
        ],
      });
      const status = await runResult(handle);
      if (status.incident) incidents.add(status.incident);
      return { runId, status };
    },
    async investigated(incidentId) {
      incidents.add(incidentId);
      const handle = env.client.workflow.getHandle(incidentId);
      const deadline = Date.now() + 240_000;
      for (;;) {
        const view = await handle.query(incidentQuery).catch((error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return undefined;
          throw error;
        });
        if (view && (view.stage === 'done' || view.status === 'resolved')) return view;
        if (Date.now() > deadline)
          throw new Error(`incident ${incidentId} not investigated in time: ${JSON.stringify(view)}`);
        await delay(250);
      }
    },
    async document(key) {
      if (!key) throw new Error('no such document');
      const record = await (options.store ?? incidentStore).getRecord<IncidentDocument>(key);
      if (!record) throw new Error(`document ${key} is not in the store`);
      return record.markdown;
    },
  };
  try {
    return await withWorkers(taskQueue, () => body(bench), {
      secrets: options.secrets,
      store: options.store,
      scratchDir: options.scratchDir,
    });
  } finally {
    for (const id of options.keepOpen ? [] : incidents) {
      await env.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
  }
}
