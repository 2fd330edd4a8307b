import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorSignature, failureFingerprint, normaliseErrorLine, reasonClass } from '../../../investigate/fingerprint';

describe('failure fingerprints', () => {
  it('remove numbers, ids, paths and timestamps from error lines', () => {
    assert.equal(
      normaliseErrorLine('2026-11-23T22:01:02.123Z error: /workspace/src/app.ts:42 failed after 3.5s (run-app-01jabc)'),
      '<ts> error: <path>:<n> failed after <n>s (<id>)',
    );
    assert.equal(normaliseErrorLine('container 3f2a9b8c7d6e5f40 exited 137'), 'container <id> exited <n>');
    assert.equal(
      normaliseErrorLine('request 123e4567-e89b-12d3-a456-426614174000 at 10:11:12 refused'),
      'request <id> at <ts> refused',
    );
  });

  it('are the same for two repeats of one failure that differ only in numbers, paths and times', () => {
    const first = failureFingerprint({
      pipeline: 'app',
      job: 'test',
      step: 'unit',
      reason: 'exit_code',
      tail: ['starting', '12:00:01 Error: cannot open /tmp/abc/x.db (errno 13)'],
    });
    const second = failureFingerprint({
      pipeline: 'app',
      job: 'test',
      step: 'unit',
      reason: 'exit_code',
      tail: ['starting again', '13:59:59 Error: cannot open /var/lib/y.db (errno 2)'],
    });
    assert.deepEqual(first, second);
  });

  it('differ by job, step, reason class and error signature, while the family ignores the signature', () => {
    const base = { pipeline: 'app', job: 'test', step: 'unit', reason: 'exit_code', tail: ['Error: boom'] };
    const fingerprints = [
      base,
      { ...base, job: 'lint' },
      { ...base, step: 'e2e' },
      { ...base, reason: 'oom_killed' },
      { ...base, tail: ['Error: something else'] },
    ].map((input) => failureFingerprint(input).fingerprint);
    assert.equal(new Set(fingerprints).size, fingerprints.length);
    assert.equal(
      failureFingerprint(base).family,
      failureFingerprint({ ...base, tail: ['Error: something else'] }).family,
    );
  });

  it('class exit codes and signals together, and timeouts of step and run together', () => {
    assert.equal(reasonClass('exit_code'), reasonClass('signal'));
    assert.equal(reasonClass('timed_out'), reasonClass('run_timed_out'));
    assert.equal(reasonClass(undefined), 'unknown');
  });

  it('sign with the error lines of the tail, or its last line when none looks like an error', () => {
    assert.equal(
      errorSignature(['compiling 3 files', 'fatal: bad object 1a2b3c4d5e6f7a8b', 'done']),
      'fatal: bad object <id>',
    );
    assert.equal(errorSignature(['step 1', 'step 2', '']), 'step <n>');
  });
});
