/** `disk_full`: a disk or the artifact store ran out of space. */
import { reasonOrPattern, type CauseModule } from '../cause';

export const diskFull: CauseModule = {
  cause: 'disk_full',
  description: 'A disk (the workspace volume, the Docker host) or the artifact store ran out of space.',
  testPlan: 'Read the failure reason (store_full); search the output for "no space left on device".',
  dataNeeded: ['exit', 'logs'],
  passRule: 'The run reports store_full, or a line says no space is left.',
  failRule: 'The run does not report store_full and no line says the disk is full.',
  logPatterns: ['no space left on device', 'enospc', 'disk quota exceeded', 'not enough space'],
  weight: 85,
  prior: (frame) => (frame.reason === 'store_full' ? 1 : 0.1),
  decide: (frame, probes) => reasonOrPattern(frame, probes, ['store_full'], { reason: 0.9, pattern: 0.85 }),
  remediation: 'Free space on the Docker host (`docker system df`) or tighten artifact retention (docs/artifacts.md).',
  action: 'none',
};
