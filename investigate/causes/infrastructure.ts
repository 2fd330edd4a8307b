/** `infrastructure`: Docker or the store failed, not the script. */
import { exitFact, fail, pass, type CauseModule } from '../cause';

const infrastructureReasons = ['infrastructure', 'terminated', 'configuration'];

export const infrastructure: CauseModule = {
  cause: 'infrastructure',
  description: 'Docker, the artifact store or the worker failed; the script is not at fault.',
  testPlan: 'Read the failure reason and message; list infrastructure events of the run.',
  dataNeeded: ['exit', 'history'],
  passRule: 'The run reports infrastructure, terminated or configuration, or recorded an infrastructure event.',
  failRule: 'The script itself ended the step and no infrastructure event was recorded.',
  weight: 80,
  prior: (frame) =>
    frame.reason && infrastructureReasons.includes(frame.reason) ? 1 : frame.infrastructure.length > 0 ? 0.5 : 0.05,
  decide(frame) {
    if (frame.reason && infrastructureReasons.includes(frame.reason)) {
      return pass(0.85, `${exitFact(frame)}: ${frame.message ?? 'no message'}`, ...frame.infrastructure);
    }
    if (frame.infrastructure.length > 0) return pass(0.6, ...frame.infrastructure, exitFact(frame));
    return fail(`${exitFact(frame)}: the script ended the step`, 'no infrastructure event recorded');
  },
  remediation:
    'Check the worker and Docker engine (`conveyor dev status`, `docker info`), then re-run the failed jobs.',
  action: 'rerun_failed',
};
