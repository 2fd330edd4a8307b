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

test("Conveyor's workflow bundle holds no parser libraries (zod, yaml, js-yaml)", { timeout: 120_000 }, async () => {
  const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
  const bundle = await bundleWorkflowCode({
    workflowsPath: join(__dirname, '..', '..', '..', 'workflows'),
    logger: { ...quiet, trace: () => undefined, log: () => undefined } as never,
  });
  const packages = new Set([...bundle.code.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((match) => match[1]));
  assert.ok(
    packages.has('@temporalio/workflow'),
    'the bundle names the packages it holds, so the check below can fail',
  );
  assert.deepEqual(
    ['zod', 'yaml', 'js-yaml'].filter((name) => packages.has(name)),
    [],
  );
});
