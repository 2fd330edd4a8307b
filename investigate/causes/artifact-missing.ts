/** `artifact_missing`: a declared artifact path matched nothing, or an input object is gone. */
import { reasonOrPattern, type CauseModule } from '../cause';

export const artifactMissing: CauseModule = {
  cause: 'artifact_missing',
  description: 'A declared artifact path matched no file, or an input artifact is no longer in the store.',
  testPlan: "Read the job's failure reason from the artifact upload or download.",
  dataNeeded: ['exit', 'artifacts'],
  passRule: 'The run reports artifact_missing for the failing job.',
  failRule: 'The failing job ended for another reason.',
  weight: 97,
  prior: (frame) => (frame.reason === 'artifact_missing' ? 1 : 0),
  decide: (frame, probes) =>
    reasonOrPattern(frame, { ...probes, logMatches: [] }, ['artifact_missing'], { reason: 0.95, pattern: 0 }),
  remediation:
    "Make the step write the declared paths (or mark the artifact optional); check retention didn't delete an input.",
  action: 'none',
};
