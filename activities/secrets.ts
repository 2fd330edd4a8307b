/**
 * Where a worker finds the values of `${secrets.NAME}`: its own environment (`CONVEYOR_SECRET_NAME`) or a JSON
 * file of name → value (`<dataDir>/secrets.json` by default). Secrets are read only inside the step activity,
 * so they never enter workflow history, plans or the CLI.
 */
import { readFileSync } from 'node:fs';

/** Looks secrets up by name. */
export interface SecretStore {
  get(name: string): string | undefined;
}

/** A secret store over fixed values (tests, embedding). */
export function createStaticSecretStore(values: Record<string, string>): SecretStore {
  return { get: (name) => (Object.hasOwn(values, name) ? values[name] : undefined) };
}

/** The worker's secrets: `CONVEYOR_SECRET_<NAME>` variables first, then the JSON file, re-read on each lookup. */
export function createWorkerSecretStore(env: NodeJS.ProcessEnv, file: string): SecretStore {
  return {
    get(name) {
      const fromEnv = env[`CONVEYOR_SECRET_${name}`];
      if (fromEnv !== undefined) return fromEnv;
      try {
        const values = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        const value = values[name];
        return typeof value === 'string' ? value : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
