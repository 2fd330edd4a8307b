/** `artifact_corrupted`: an input artifact does not hash to its digest. */
import { reasonOrPattern, type CauseModule } from '../cause';

export const artifactCorrupted: CauseModule = {
  cause: 'artifact_corrupted',
  description: 'An input artifact does not hash to its recorded digest, even fetched again.',
  testPlan: "Read the job's failure reason from the artifact download.",
  dataNeeded: ['exit', 'artifacts'],
  passRule: 'The run reports artifact_corrupted for the failing job.',
  failRule: 'The failing job ended for another reason.',
  weight: 98,
  prior: (frame) => (frame.reason === 'artifact_corrupted' ? 1 : 0),
  decide: (frame, probes) =>
    reasonOrPattern(frame, { ...probes, logMatches: [] }, ['artifact_corrupted'], { reason: 0.95, pattern: 0 }),
  remediation: 'Run `conveyor artifacts verify` and re-run the upstream job so it stores the artifact again.',
  action: 'rerun_failed',
};
