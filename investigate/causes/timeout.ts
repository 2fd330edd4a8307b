/** `timeout`: the step, job or run ran out of time. */
import { exitFact, fail, pass, type CauseModule } from '../cause';

export const timeout: CauseModule = {
  cause: 'timeout',
  description: 'The step, job or run took longer than its timeout and was stopped.',
  testPlan: "Read the step's end reason and its timeout from the definition.",
  dataNeeded: ['exit', 'definition'],
  passRule: 'The run reports timed_out or run_timed_out for the failing job.',
  failRule: 'The failing job ended for any other reason.',
  weight: 90,
  prior: (frame) => (frame.reason === 'timed_out' || frame.reason === 'run_timed_out' ? 1 : 0.05),
  decide(frame) {
    if (frame.reason === 'timed_out' || frame.reason === 'run_timed_out') {
      const limit = frame.timeoutSeconds !== undefined ? ` (step timeout ${frame.timeoutSeconds} s)` : '';
      return pass(0.95, `${exitFact(frame)}${limit}`);
    }
    return fail(`${exitFact(frame)}: it did not time out`);
  },
  remediation:
    "Find what made the step slow (a hung command, a network wait); raise the step's `timeout` only if the work really grew.",
  action: 'rerun_failed',
};
