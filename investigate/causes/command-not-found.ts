/** `command_not_found`: the script called a program the image does not have. */
import { reasonOrPattern, type CauseModule } from '../cause';

export const commandNotFound: CauseModule = {
  cause: 'command_not_found',
  description: 'The script runs a command that is not installed in the image (or is misspelt).',
  testPlan: 'Read the exit code (127); search the output for "command not found".',
  dataNeeded: ['exit', 'logs'],
  passRule: 'Exit code 127 (command_not_found), or a line says a command was not found.',
  failRule: 'Any other exit and no "not found" line.',
  logPatterns: ['command not found', 'not found in \\$?path', 'executable file not found', ': not found$'],
  weight: 78,
  prior: (frame) => (frame.reason === 'command_not_found' ? 1 : 0.1),
  decide: (frame, probes) => reasonOrPattern(frame, probes, ['command_not_found'], { reason: 0.9, pattern: 0.75 }),
  remediation: 'Install the command in the image (or use an image that has it), or fix the spelling in the script.',
  action: 'none',
};
