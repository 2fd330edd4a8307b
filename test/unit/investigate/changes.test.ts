import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changeReachesFailure, diffDefinitions, diffInputs, diffVariables } from '../../../investigate/changes';
import { job, pipeline, step } from '../../helpers/models';

describe('what changed since the last green run', () => {
  it("diffs a job's steps by name, field by field", () => {
    const before = pipeline('app', [job('build', [step('deps', ['npm ci']), step('compile', ['make'])])]);
    const after = pipeline('app', [
      job('build', [step('deps', ['npm ci']), step('compile', ['make all'], { timeoutSeconds: 5 })], {
        resources: { memoryBytes: 64 * 1048576, cpus: 1 },
      }),
    ]);
    const changes = diffDefinitions(before, after);
    assert.deepEqual(
      changes.map((change) => [change.path, change.before, change.after]),
      [
        ['jobs.build.memory', String(256 * 1048576), String(64 * 1048576)],
        ['jobs.build.steps[1].script', 'make', 'make all'],
        ['jobs.build.steps[1].timeout', '60', '5'],
      ],
    );
    assert.equal(changes[1]?.step, 'compile');
  });

  it('reports jobs added and removed, and global environment changes', () => {
    const before = pipeline('app', [job('a', [step('s', ['true'])])], { globalEnv: { MODE: 'x' } });
    const after = pipeline('app', [job('b', [step('s', ['true'])])], { globalEnv: { MODE: 'y' } });
    assert.deepEqual(
      diffDefinitions(before, after).map((change) => `${change.path}:${change.after}`),
      ['global_env:MODE=y', 'jobs.b:added', 'jobs.a:removed'],
    );
  });

  it('shows variable values but never values of secret-like names', () => {
    const changes = diffVariables({ VERSION: '1', API_TOKEN: 'abc' }, { VERSION: '2', API_TOKEN: 'def' });
    assert.deepEqual(
      changes.map((change) => [change.path, change.before, change.after]),
      [
        ['vars.API_TOKEN', '••••••', '••••••'],
        ['vars.VERSION', '1', '2'],
      ],
    );
    assert.ok(
      !JSON.stringify(
        diffDefinitions(
          pipeline('p', [job('a', [step('s', ['true'], { environment: { DB_PASSWORD: 'hunter2' } })])]),
          pipeline('p', [job('a', [step('s', ['true'], { environment: { DB_PASSWORD: 'hunter3' } })])]),
        ),
      ).includes('hunter'),
    );
  });

  it('diffs input artifact digests', () => {
    const changes = diffInputs(
      [
        { job: 'gen', name: 'data', digest: 'a' },
        { job: 'gen', name: 'same', digest: 'c' },
      ],
      [
        { job: 'gen', name: 'data', digest: 'b' },
        { job: 'gen', name: 'same', digest: 'c' },
      ],
    );
    assert.deepEqual(
      changes.map((change) => [change.path, change.before, change.after]),
      [['inputs.gen/data', 'a', 'b']],
    );
  });

  it('says a change reaches the failure only in the failing job, at or before the failing step', () => {
    const model = pipeline('app', [job('build', [step('a', ['true']), step('b', ['true']), step('c', ['true'])])]);
    const at = (stepName: string) => ({ kind: 'definition' as const, path: 'x', job: 'build', step: stepName });
    assert.equal(changeReachesFailure(at('a'), model, 'build', 'b'), true);
    assert.equal(changeReachesFailure(at('b'), model, 'build', 'b'), true);
    assert.equal(changeReachesFailure(at('c'), model, 'build', 'b'), false);
    assert.equal(changeReachesFailure({ kind: 'definition', path: 'y', job: 'other' }, model, 'build', 'b'), false);
    assert.equal(changeReachesFailure({ kind: 'variable', path: 'vars.X' }, model, 'build', 'b'), true);
  });
});
