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

/** A cause by its name; throws on an unknown one (a bug, or an old history naming a removed cause). */
export function causeNamed(name: string): CauseModule {
  const found = runCauses.find((module) => module.cause === name);
  if (!found) throw new Error(`unknown cause '${name}' (known: ${runCauses.map((module) => module.cause).join(', ')})`);
  return found;
}

/** The cause names, for the CLI's `--cause` and the config's remediation policy. */
export const causeNames: readonly string[] = runCauses.map((module) => module.cause);
