/** `upstream_changed`: an input artifact differs from the one the last green run consumed. */
import { fail, inconclusive, pass, type CauseModule } from '../cause';
import { describeChange } from './config-changed';

export const upstreamChanged: CauseModule = {
  cause: 'upstream_changed',
  description:
    "An input artifact's digest changed since the last green run: the upstream job produced something different.",
  testPlan: "Compare the failing job's input artifact digests with the last successful run's.",
  dataNeeded: ['artifacts', 'history'],
  passRule: "An input artifact's digest differs from the green run's.",
  failRule: 'Every input artifact has the digest it had in the green run.',
  weight: 60,
  prior: (frame) =>
    frame.changes.some((change) => change.kind === 'input_artifact') ? 0.8 : frame.inputs.length > 0 ? 0.2 : 0,
  decide(frame) {
    if (!frame.lastGreen) return inconclusive('no successful run of this pipeline to compare with');
    if (frame.inputs.length === 0) return inconclusive(`${frame.job ?? 'the job'} has no input artifacts`);
    const changed = frame.changes.filter((change) => change.kind === 'input_artifact');
    if (changed.length > 0)
      return pass(0.8, ...changed.map(describeChange), `compared with green run ${frame.lastGreen.runId}`);
    return fail(`all ${frame.inputs.length} input artifact(s) have the digests of green run ${frame.lastGreen.runId}`);
  },
  remediation: 'Look at what the upstream job changed (its own diff); pin or fix the upstream output.',
  action: 'none',
};
