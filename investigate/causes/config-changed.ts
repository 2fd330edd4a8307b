/** `config_changed`: the definition or variables differ from the last green run, where the failure is. */
import { fail, inconclusive, pass, type CauseModule } from '../cause';
import type { Change } from '../incident';

/** A change as evidence: `jobs.build.steps[1].script: "make" → "make all"`. */
export function describeChange(change: Change): string {
  const show = (value: string | undefined) => (value === undefined ? '(none)' : JSON.stringify(value));
  return `${change.path}: ${show(change.before)} → ${show(change.after)}`;
}

export const configChanged: CauseModule = {
  cause: 'config_changed',
  description:
    'The pipeline definition or its variables changed since the last green run, in or before the failing step.',
  testPlan: 'Diff the failing job and the variables against the last successful run of the same pipeline.',
  dataNeeded: ['definition', 'variables', 'history'],
  passRule:
    'A definition or variable change reaches the failure (the failing job at or before the failing step, global env, or a variable).',
  failRule: 'There is a green run and no change reaches the failure.',
  weight: 58,
  prior: (frame) =>
    frame.changes.some((change) => change.kind !== 'input_artifact' && change.reachesFailure)
      ? 0.8
      : frame.lastGreen
        ? 0.1
        : 0.2,
  decide(frame) {
    if (!frame.lastGreen) return inconclusive('no successful run of this pipeline to compare with');
    const reaching = frame.changes.filter((change) => change.kind !== 'input_artifact' && change.reachesFailure);
    if (reaching.length > 0) {
      return pass(0.8, ...reaching.map(describeChange), `compared with green run ${frame.lastGreen.runId}`);
    }
    return fail(`definition and variables of ${frame.job ?? 'the job'} are as in green run ${frame.lastGreen.runId}`);
  },
  remediation: 'Review the change (Problem.md lists it); revert it or fix it, then re-run.',
  action: 'none',
};
