/** `disk_full`: a disk or the artifact store ran out of space. */
import { reasonOrPattern, type CauseModule } from '../cause';

export const diskFull: CauseModule = {
  cause: 'disk_full',
  description: 'A disk (the workspace volume, the Docker host) or the artifact store ran out of space.',
  testPlan: 'Read the failure reason (disk_full, store_full); search the output for "no space left on device".',
  dataNeeded: ['exit', 'logs'],
  passRule:
    'The run reports disk_full (the workspace past resources.disk) or store_full, or a line says no space is left.',
  failRule: 'The run reports neither disk_full nor store_full and no line says the disk is full.',
  logPatterns: ['no space left on device', 'enospc', 'disk quota exceeded', 'not enough space'],
  weight: 85,
  prior: (frame) => (frame.reason === 'store_full' || frame.reason === 'disk_full' ? 1 : 0.1),
  decide: (frame, probes) =>
    reasonOrPattern(frame, probes, ['disk_full', 'store_full'], { reason: 0.9, pattern: 0.85 }),
  remediation: 'Free space on the Docker host (`docker system df`) or tighten artifact retention (docs/artifacts.md).',
  action: 'none',
};
