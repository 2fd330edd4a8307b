/** `permission_denied`: the script was not allowed to do something. */
import { reasonOrPattern, type CauseModule } from '../cause';

export const permissionDenied: CauseModule = {
  cause: 'permission_denied',
  description: 'The step was refused access: a file not executable, a path it may not write, a privileged call.',
  testPlan: 'Read the exit code (126); search the output for permission errors.',
  dataNeeded: ['exit', 'logs'],
  passRule: 'Exit code 126 (not_executable), or a line says permission denied / operation not permitted.',
  failRule: 'Any other exit and no permission error in the output.',
  logPatterns: ['permission denied', 'operation not permitted', 'eacces', 'eperm\\b', 'read-only file system'],
  weight: 76,
  prior: (frame) => (frame.reason === 'not_executable' ? 1 : 0.1),
  decide: (frame, probes) => reasonOrPattern(frame, probes, ['not_executable'], { reason: 0.85, pattern: 0.75 }),
  remediation:
    'Steps run as a non-root user with no capabilities (docs/runs.md): write under /workspace or /tmp, `chmod +x` scripts.',
  action: 'none',
};
