/**
 * The `registries:` section of `conveyor.config.yml` (docs/runs.md, "Images and registries"): credentials the
 * worker uses to pull step images from private registries. They stay in the worker: a run's workflow history and
 * logs only ever name the image.
 *
 * ```yaml
 * registries:
 *   - host: registry.example.com:5000   # the registry part of an image reference
 *     username: ci
 *     password_env: REGISTRY_PASSWORD    # or password: (inline, for local setups)
 * ```
 */
import { z } from 'zod';
import { readSecret } from './providers';

const registrySchema = z.strictObject({
  host: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:[0-9]+)?$/, { error: 'expected a registry host such as registry.example.com:5000' })
    .meta({ description: 'Registry host (and port) as written in image references; docker.io for Docker Hub.' }),
  username: z.string().min(1).meta({ description: 'User name to log in with.' }),
  password: z.string().min(1).optional().meta({ description: 'Password or token (prefer password_env).' }),
  password_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' })
    .optional()
    .meta({ description: "Environment variable of the worker's process holding the password or token." }),
});

export const registriesSchema = z
  .array(registrySchema)
  .meta({ description: 'Credentials for pulling step images from private registries (docs/runs.md).' });

/** The validated `registries:` section. */
export type RegistriesSettings = z.output<typeof registriesSchema>;

/** What Docker's pull API takes as `X-Registry-Auth`. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/**
 * The registry an image reference names, as Docker reads it: the first path component when it has a `.` or a `:`
 * or is `localhost`, else Docker Hub (`docker.io`).
 */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

/** The credentials for an image's registry, or undefined when the configuration has none (an anonymous pull). */
export function registryAuthFor(
  settings: RegistriesSettings | undefined,
  env: NodeJS.ProcessEnv,
  image: string,
): RegistryAuth | undefined {
  const host = registryOf(image);
  const entry = (settings ?? []).find((candidate) => candidate.host === host);
  if (!entry) return undefined;
  const password = readSecret(env, { inline: entry.password, envName: entry.password_env });
  return { username: entry.username, password: password ?? '', serveraddress: host };
}
