import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { bundleWorkflowCode } from '@temporalio/worker';

test('a workflow bundle that imports pipeline/ builds without any Node builtin', { timeout: 120_000 }, async () => {
  const warnings: string[] = [];
  const logger = {
    error: (message: string) => warnings.push(message),
    warn: (message: string) => warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    trace: () => undefined,
    log: () => undefined,
  };
  const bundle = await bundleWorkflowCode({
    workflowsPath: join(__dirname, 'fixtures-workflow', 'pipeline-workflow.ts'),
    logger: logger as never,
  });
  assert.ok(bundle.code.includes('pipelineWorkflow'));
  assert.ok(
    bundle.code.includes('Conveyor pipeline') || bundle.code.includes('unknown_dependency'),
    'pipeline/ is in the bundle',
  );
  assert.deepEqual(
    warnings.filter((message) => /builtin|disallowed|node:/i.test(message)),
    [],
  );
});
