/** `flaky`: the same definition, variables and inputs passed before. */
import { fail, inconclusive, pass, type CauseModule } from '../cause';

export const flaky: CauseModule = {
  cause: 'flaky',
  description: 'The step fails intermittently: the same definition, variables, images and inputs passed before.',
  testPlan: 'Compare definition, variables and input digests with the last successful run; count retries.',
  dataNeeded: ['definition', 'variables', 'artifacts', 'history'],
  passRule: 'A green run exists with identical definition, variables and input artifacts.',
  failRule: 'Something changed since the green run.',
  weight: 52,
  prior: (frame) => (frame.lastGreen && frame.changes.length === 0 ? 0.6 : 0),
  decide(frame) {
    if (!frame.lastGreen) return inconclusive('no successful run of this pipeline to compare with');
    if (frame.changes.length > 0)
      return fail(`${frame.changes.length} change(s) since green run ${frame.lastGreen.runId}`);
    return pass(
      0.65,
      `green run ${frame.lastGreen.runId} passed with the same definition, variables and input artifacts`,
      ...frame.retries.map(
        (retry) => `${retry.job}${retry.step ? `/${retry.step}` : ''} took ${retry.attempts} attempts`,
      ),
    );
  },
  remediation:
    'Re-run the failed jobs; if it recurs, find the nondeterminism (time, ordering, network) or add `retry_count`.',
  action: 'rerun_failed',
};
