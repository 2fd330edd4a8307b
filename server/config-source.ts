/**
 * The server's view of `conveyor.config.yml`, re-read when the file changes, so `conveyor token create` and edits to
 * users and roles take effect without a restart (docs/control-plane.md). A file that stops being valid is reported
 * once and the last valid version stays in force.
 */
import { statSync } from 'node:fs';
import { findConfigFile, readConfigFile, type ConfigFile } from '../config/config-file';
import type { ConveyorConfig } from '../workers/config';
import { AccessControl } from './access-control';

/** One valid version of the configuration file, with what the server derives from it. */
export interface ConfigSnapshot {
  file: ConfigFile;
  access: AccessControl;
}

/** Returns the current configuration; checks the file's size and mtime at most every `checkIntervalMs`. */
export function watchConfigFile(
  config: ConveyorConfig,
  options: { env?: NodeJS.ProcessEnv; checkIntervalMs?: number; warn?: (message: string) => void } = {},
): () => ConfigSnapshot {
  const env = options.env ?? process.env;
  const interval = options.checkIntervalMs ?? 1000;
  const warn = options.warn ?? ((message: string) => console.error(message));
  let current: ConfigSnapshot = { file: config.file, access: new AccessControl(config.file.access ?? emptyAccess()) };
  let signature = fileSignature(config.configFile);
  let checkedAt = Date.now();
  return () => {
    const now = Date.now();
    if (now - checkedAt < interval) return current;
    checkedAt = now;
    const file = findConfigFile(env, config.dataDir, config.projectRoot);
    const next = fileSignature(file);
    if (next === signature) return current;
    signature = next;
    try {
      const parsed = readConfigFile(file);
      current = { file: parsed, access: new AccessControl(parsed.access ?? emptyAccess()) };
    } catch (error) {
      warn(`conveyor.config.yml changed but is not valid; keeping the previous version:\n${(error as Error).message}`);
    }
    return current;
  };
}

function emptyAccess() {
  return { users: {}, groups: {}, tokens: [] };
}

function fileSignature(file: string | undefined): string {
  if (!file) return 'none';
  try {
    const stat = statSync(file);
    return `${file}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    return `${file}:missing`;
  }
}
