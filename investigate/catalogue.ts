/** The cause catalogue (DESIGN.md §8): every cause module, registered once. Adding a cause is adding a file here. */
import type { CauseModule } from './cause';
import { artifactCorrupted } from './causes/artifact-corrupted';
import { artifactMissing } from './causes/artifact-missing';
import { commandNotFound } from './causes/command-not-found';
import { configChanged } from './causes/config-changed';
import { diskFull } from './causes/disk-full';
import { flaky } from './causes/flaky';
import { imageNotFound } from './causes/image-not-found';
import { infrastructure } from './causes/infrastructure';
import { networkUnreachable } from './causes/network-unreachable';
import { oom } from './causes/oom';
import { permissionDenied } from './causes/permission-denied';
import { scriptError } from './causes/script-error';
import { testFailure } from './causes/test-failure';
import { timeout } from './causes/timeout';
import { upstreamChanged } from './causes/upstream-changed';
import { deploymentCauses } from './deployment-causes';
import { alertCauses } from './alert-causes';
import type { FailureFrame } from './incident';

/** Every cause of a failed run. */
export const runCauses: readonly CauseModule[] = [
  oom,
  timeout,
  imageNotFound,
  commandNotFound,
  permissionDenied,
  networkUnreachable,
  diskFull,
  artifactCorrupted,
  artifactMissing,
  configChanged,
  upstreamChanged,
  flaky,
  infrastructure,
  testFailure,
  scriptError,
];

/** Every log pattern of the run causes: the frame's one log scan searches for all of them (investigate/log-scan.ts). */
export const runLogPatterns: readonly string[] = [...new Set(runCauses.flatMap((module) => module.logPatterns ?? []))];

/** Every cause of every kind of incident. */
const allCauses: readonly CauseModule[] = [...runCauses, ...deploymentCauses, ...alertCauses];

/** The causes that can explain a frame: a run's, a rollout's (investigate/deployment-causes.ts) or an alert's. */
export function catalogueFor(frame: FailureFrame): readonly CauseModule[] {
  if (frame.deployment) return deploymentCauses;
  if (frame.alert) return alertCauses;
  return runCauses;
}

/** A cause by its name; throws on an unknown one (a bug, or an old history naming a removed cause). */
export function causeNamed(name: string): CauseModule {
  const found = allCauses.find((module) => module.cause === name);
  if (!found) throw new Error(`unknown cause '${name}' (known: ${allCauses.map((module) => module.cause).join(', ')})`);
  return found;
}

/** The cause names, for the CLI's `--cause` and the config's remediation policy. */
export const causeNames: readonly string[] = allCauses.map((module) => module.cause);
