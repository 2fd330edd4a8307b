/** `conveyor logs RUN JOB[/STEP]`: selectors resolve against the run's jobs, and a wrong one lists what is valid. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from '../../../client/cli-error';
import { resolveLogSelector } from '../../../client/log-selector';
import { job, pipeline, step } from '../../helpers/models';

const model = pipeline('app', [
  job('build', [step('compile', ['make']), step('link', ['ld'])]),
  job('test (node=18)', [step('unit', ['npm test'])], { baseName: 'test', matrix: { node: 18 } }),
  job('test (node=20)', [step('unit', ['npm test'])], { baseName: 'test', matrix: { node: 20 } }),
]);

function usageError(run: () => unknown): CliError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof CliError);
    assert.equal(error.exitCode, 2, 'a wrong selector is bad usage');
    return error;
  }
  assert.fail('expected an error');
}

describe('log selectors', () => {
  it('select nothing without a selector, a job by name, a step within it', () => {
    assert.deepEqual(resolveLogSelector('run-1', model), {});
    assert.deepEqual(resolveLogSelector('run-1', model, 'build'), { jobs: new Set(['build']), step: undefined });
    assert.deepEqual(resolveLogSelector('run-1', model, 'build/link'), { jobs: new Set(['build']), step: 'link' });
  });

  it('select every expansion of a matrix job by the name it is written with, or one by its full name', () => {
    assert.deepEqual(
      resolveLogSelector('run-1', model, 'test/unit').jobs,
      new Set(['test (node=18)', 'test (node=20)']),
    );
    assert.deepEqual(resolveLogSelector('run-1', model, 'test (node=20)').jobs, new Set(['test (node=20)']));
  });

  it('reject an unknown job, naming the closest one and listing the valid names', () => {
    const error = usageError(() => resolveLogSelector('run-1', model, 'biuld'));
    assert.equal(
      error.message,
      "run 'run-1' has no job 'biuld' (did you mean 'build'?); its jobs are: build, test, test (node=18), test (node=20)",
    );
  });

  it('reject an unknown step of a known job, listing its steps', () => {
    const error = usageError(() => resolveLogSelector('run-1', model, 'build/test'));
    assert.equal(error.message, "job 'build' of run 'run-1' has no step 'test'; its steps are: compile, link");
  });
});
