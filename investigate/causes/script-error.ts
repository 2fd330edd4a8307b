/** `script_error`: anything else the script did — it exited non-zero. */
import { exitFact, fail, pass, quote, type CauseModule } from '../cause';

export const scriptError: CauseModule = {
  cause: 'script_error',
  description: 'The script exited non-zero for a reason no more specific cause explains.',
  testPlan: "Read the exit code; quote the step's last error lines.",
  dataNeeded: ['exit', 'logs'],
  passRule: 'The script itself ended the step with a non-zero exit (exit_code or signal).',
  failRule: 'The step did not end by the script (timeout, OOM, infrastructure, artifacts, image).',
  weight: 10,
  prior: (frame) => (frame.reason === 'exit_code' || frame.reason === 'signal' ? 0.4 : 0),
  decide(frame) {
    if (frame.reason === 'exit_code' || frame.reason === 'signal') {
      const errors = frame.logExcerpt.slice(-3).map(quote);
      return pass(0.4, exitFact(frame), ...errors);
    }
    return fail(`${exitFact(frame)}: not a plain script exit`);
  },
  remediation: 'Read the error lines in RCA.md and the step log, fix the script, re-run.',
  action: 'none',
};
