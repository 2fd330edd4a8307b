/** `test_failure`: a test runner reported failing tests. */
import { fail, pass, quote, type CauseModule } from '../cause';

export const testFailure: CauseModule = {
  cause: 'test_failure',
  description: 'A test runner ran and reported failing tests.',
  testPlan: "Search the output for test runners' failure summaries.",
  dataNeeded: ['logs'],
  passRule:
    'A line is a test runner failure summary (`N failed`, `FAIL`, `not ok`, `AssertionError`, `Tests: N failed`).',
  failRule: 'No such line.',
  logPatterns: [
    '\\b\\d+ (failed|failing)\\b',
    '^\\s*fail[: ]',
    '^not ok \\d+',
    'assertionerror',
    'tests? failed',
    '^failed .*::',
    '# fail [1-9]',
  ],
  weight: 50,
  prior: (frame) => (frame.reason === 'exit_code' ? 0.3 : 0.05),
  decide(frame, probes) {
    if (probes.logMatches.length === 0) return fail(`no test failure summary in ${probes.linesSearched} lines`);
    return pass(0.75, ...probes.logMatches.map(quote));
  },
  remediation: 'Read the failing tests in the log (`conveyor logs RUN --job JOB`) and fix the code or the test.',
  action: 'none',
};
