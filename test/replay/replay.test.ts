/**
 * Recorded histories of every workflow type replay against today's workflow code (STYLE.md 11): a change that
 * alters the command sequence of a running workflow fails here unless it is behind `patched()`.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { workflowBundle } from '../helpers/temporal';

const directory = path.join(__dirname, 'histories');

/** A recorded history and the id of the workflow it belongs to (scripts/record-histories.ts writes them). */
async function readRecord(file: string) {
  const record = JSON.parse(await readFile(path.join(directory, file), 'utf8')) as {
    workflowId: string;
    history: unknown;
  };
  return { workflowId: record.workflowId, history: historyFromJSON(record.history) };
}

describe('workflow replay', async () => {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.json')).sort();

  it('has a recorded history of every workflow type', async () => {
    const types = new Set<string>();
    for (const file of files) {
      const { history } = await readRecord(file);
      const name = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      if (name) types.add(name);
    }
    assert.deepEqual([...types].sort(), ['pipelineJob', 'pipelineRun']);
  });

  for (const file of files) {
    it(`replays ${file} without nondeterminism`, async () => {
      const { workflowId, history } = await readRecord(file);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
    });
  }
});
