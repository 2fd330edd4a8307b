/**
 * Recorded histories of every workflow type replay against today's workflow code: a change that alters the command
 * sequence of a running workflow fails here unless it is behind `patched()`. Histories are recorded by
 * scripts/record-histories.ts (deployments: a rollout's run taken from `bench/deploy.ts`, fetched by run id) and kept:
 * the oldest prove that runs started by older code still replay. Those in `previous-release/` were recorded by the
 * previous release's code, one or two of every workflow type the worker registers
 * (scripts/record-release-histories.ts; docs/operations.md, "Rolling upgrades").
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { PipelineRunInput } from '../../workflows/pipeline-run-messages';
import { estimatedInlineEvents, inlineEventBudget } from '../../workflows/job-placement';
import { previousReleaseCommit, registeredWorkflowTypes } from '../helpers/previous-release';
import { workflowBundle } from '../helpers/temporal';

const directory = path.join(__dirname, 'histories');
const previousRelease = 'previous-release';

/** A recorded history and the id of the workflow it belongs to (scripts/record-histories.ts writes them). */
async function readRecord(file: string) {
  const record = JSON.parse(await readFile(path.join(directory, file), 'utf8')) as {
    workflowId: string;
    history: unknown;
  };
  const history = historyFromJSON(record.history);
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return { workflowId: record.workflowId, history, type: started?.workflowType?.name, input: started?.input };
}

/**
 * The workflows bundled with another inline threshold (`workflows/inline-event-budget.ts` replaced), to replay a
 * history as if the threshold had been changed while its run was in flight.
 */
async function bundleWithInlineBudget(budget: number): Promise<WorkflowBundleWithSourceMap> {
  const folder = await mkdtemp(path.join(tmpdir(), 'conveyor-budget-'));
  after(() => rm(folder, { recursive: true, force: true }));
  const replacement = path.join(folder, 'inline-event-budget.js');
  await writeFile(replacement, `exports.inlineEventBudget = ${budget};\n`);
  const original = path.resolve(__dirname, '../../workflows/inline-event-budget');
  const quiet = () => undefined;
  return bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../workflows'),
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, alias: { ...(config.resolve?.alias as object), [original]: replacement } },
    }),
  });
}

describe('workflow replay', async () => {
  const dated = (await readdir(directory)).filter((file) => file.endsWith('.json')).sort();
  const released = (await readdir(path.join(directory, previousRelease)))
    .filter((file) => file.endsWith('.json') && file !== 'release.json')
    .sort()
    .map((file) => path.join(previousRelease, file));
  const files = [...dated, ...released];

  it(`has histories of every registered workflow type from the previous release (${previousReleaseCommit().slice(0, 7)})`, async () => {
    const types = new Set<string>();
    for (const file of released) {
      const { type } = await readRecord(file);
      if (type) types.add(type);
    }
    assert.deepEqual([...types].sort(), registeredWorkflowTypes());
  });

  for (const file of files) {
    it(`replays ${file} without nondeterminism`, async () => {
      const { workflowId, history } = await readRecord(file);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
    });
  }

  it('the investigation histories record the index-alongside-frame and llm-narrative paths', async () => {
    const markers = new Set<string>();
    for (const file of files.filter((name) => path.basename(name).startsWith('investigation'))) {
      const { history } = await readRecord(file);
      for (const event of history.events ?? []) {
        for (const payload of event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []) {
          markers.add((JSON.parse(Buffer.from(payload.data ?? []).toString('utf8')) as { id: string }).id);
        }
      }
    }
    for (const marker of ['index-alongside-frame', 'llm-narrative']) assert.ok(markers.has(marker), marker);
  });

  it('a run whose jobs ran inline replays unchanged after the inline threshold moved just below it', async () => {
    const inlineRuns = [];
    for (const file of files) {
      const record = await readRecord(file);
      if (record.type !== 'pipelineRun' || !record.input?.payloads?.[0]?.data) continue;
      const input = JSON.parse(Buffer.from(record.input.payloads[0].data).toString('utf8')) as PipelineRunInput;
      if (input.options?.inlineEventBudget !== undefined) continue;
      inlineRuns.push({ file, ...record, estimate: estimatedInlineEvents(input.pipeline.jobs) });
    }
    assert.ok(inlineRuns.length > 0, 'some recorded run used the default threshold');
    for (const run of inlineRuns) {
      assert.ok(run.estimate <= inlineEventBudget, `${run.file} ran inline`);
      const bundle = await bundleWithInlineBudget(run.estimate - 1);
      await Worker.runReplayHistory({ workflowBundle: bundle }, run.history, run.workflowId);
    }
  });
});
