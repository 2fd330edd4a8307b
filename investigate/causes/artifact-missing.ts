/** `artifact_missing`: a declared artifact path matched nothing, or an input object is gone. */
import { describeArtifactProbe, exitFact, fail, pass, type CauseModule } from '../cause';

export const artifactMissing: CauseModule = {
  cause: 'artifact_missing',
  description: 'A declared artifact path matched no file, or an input artifact is no longer in the store.',
  testPlan:
    "Read the job's failure reason from the artifact upload or download; look its input artifacts up in the store.",
  dataNeeded: ['exit', 'artifacts', 'store'],
  passRule: 'The run reports artifact_missing for the failing job, or an input artifact is not in the store.',
  failRule: 'The failing job ended for another reason and every input artifact is in the store.',
  weight: 97,
  prior: (frame) => (frame.reason === 'artifact_missing' ? 1 : 0),
  decide(frame, probes) {
    const missing = (probes.artifacts ?? []).filter((probe) => probe.status === 'missing').map(describeArtifactProbe);
    if (frame.reason === 'artifact_missing') {
      return pass(0.95, `${exitFact(frame)}: ${frame.message ?? 'no message'}`, ...missing);
    }
    if (missing.length > 0) return pass(0.8, ...missing, exitFact(frame));
    return fail(`${exitFact(frame)}, not artifact_missing`);
  },
  remediation:
    "Make the step write the declared paths (or mark the artifact optional); check retention didn't delete an input.",
  action: 'none',
};
