/** `artifact_corrupted`: an input artifact does not hash to its digest. */
import { describeArtifactProbe, exitFact, fail, pass, type CauseModule } from '../cause';

export const artifactCorrupted: CauseModule = {
  cause: 'artifact_corrupted',
  description: 'An input artifact does not hash to its recorded digest, even fetched again.',
  testPlan: "Read the job's failure reason from the artifact download; re-hash its input artifacts in the store.",
  dataNeeded: ['exit', 'artifacts', 'store'],
  passRule: 'The run reports artifact_corrupted for the failing job, or an input artifact re-hashes to another digest.',
  failRule: 'The failing job ended for another reason and every input artifact re-hashes to its digest.',
  weight: 98,
  prior: (frame) => (frame.reason === 'artifact_corrupted' ? 1 : 0),
  decide(frame, probes) {
    const checked = probes.artifacts ?? [];
    const corrupted = checked.filter((probe) => probe.status === 'corrupted').map(describeArtifactProbe);
    if (frame.reason === 'artifact_corrupted') {
      // The store's bytes now, after the run's own verification: the full digests, and whether it is still so.
      const now = corrupted.length > 0 ? corrupted : checked.map(describeArtifactProbe);
      return pass(0.95, `${exitFact(frame)}: ${frame.message ?? 'no message'}`, ...now);
    }
    if (corrupted.length > 0) return pass(0.8, ...corrupted, exitFact(frame));
    return fail(
      `${exitFact(frame)}, not artifact_corrupted`,
      checked.length > 0 ? `${checked.length} input artifact(s) re-hashed intact` : 'the job has no input artifacts',
    );
  },
  remediation: 'Run `conveyor artifacts verify` and re-run the upstream job so it stores the artifact again.',
  action: 'rerun_failed',
};
