/**
 * The `providers:` section of `conveyor.config.yml` (docs/triggers.md): GitHub and GitLab webhooks and commit
 * statuses, which repositories the webhooks may start, and credentials for fetching repositories.
 *
 * ```yaml
 * providers:
 *   public_url: https://ci.example.com         # links in commit statuses (default: the API server's address)
 *   github:
 *     webhook_secret_env: GITHUB_WEBHOOK_SECRET  # or webhook_secret:, or CONVEYOR_GITHUB_WEBHOOK_SECRET
 *     api_url: https://api.github.com          # statuses: POST {api_url}/repos/{owner}/{repo}/statuses/{sha}
 *     token_env: GITHUB_TOKEN                   # no token: no commit statuses
 *   gitlab:
 *     webhook_token_env: GITLAB_WEBHOOK_TOKEN
 *     api_url: https://gitlab.example.com/api/v4
 *     token_env: GITLAB_TOKEN
 *   repositories:
 *     - name: acme/app                         # GitHub owner/name or GitLab path with namespace
 *       url: https://github.com/acme/app.git   # where workers fetch it (default: the webhook's clone URL)
 *       pipelines: [.conveyor.yml]
 *   credentials:
 *     - url: https://github.com/acme/          # every repository URL starting with this
 *       username: x-access-token
 *       password_env: GITHUB_TOKEN
 * ```
 *
 * Secrets may be written inline for local setups, but `*_env` (the name of an environment variable of the worker
 * and server processes) keeps them out of the file.
 */
import { z } from 'zod';

const secret = (what: string) =>
  z
    .string()
    .min(1)
    .optional()
    .meta({ description: `${what} (prefer the _env form).` });
const secretEnv = (what: string) =>
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' })
    .optional()
    .meta({ description: `Environment variable holding ${what}.` });

/** Commit statuses and webhooks of GitHub. */
const githubSchema = z.strictObject({
  webhook_secret: secret('The webhook secret X-Hub-Signature-256 is checked with'),
  webhook_secret_env: secretEnv('the webhook secret'),
  api_url: z
    .url()
    .default('https://api.github.com')
    .meta({ description: 'REST API base URL (GitHub Enterprise: …/api/v3).' }),
  token: secret('A token allowed to write commit statuses'),
  token_env: secretEnv('the status token'),
  statuses: z.boolean().default(true).meta({ description: 'Post commit statuses (needs a token).' }),
});

/** Commit statuses and webhooks of GitLab. */
const gitlabSchema = z.strictObject({
  webhook_token: secret('The secret token GitLab sends as X-Gitlab-Token'),
  webhook_token_env: secretEnv('the webhook token'),
  api_url: z.url().default('https://gitlab.com/api/v4').meta({ description: 'REST API base URL.' }),
  token: secret('A token with the api scope, for commit statuses'),
  token_env: secretEnv('the status token'),
  statuses: z.boolean().default(true).meta({ description: 'Post commit statuses (needs a token).' }),
});

/** A repository webhooks may start runs of. */
const repositorySchema = z.strictObject({
  name: z.string().min(1).meta({ description: 'GitHub owner/name, or GitLab path with namespace.' }),
  url: z.string().min(1).optional().meta({ description: "Where to fetch it from (default: the webhook's clone URL)." }),
  pipelines: z
    .array(z.string().min(1))
    .min(1)
    .default(['.conveyor.yml'])
    .meta({ description: 'Pipeline files, relative to the repository root.' }),
});

/** Credentials for repository URLs starting with `url`. */
const credentialSchema = z.strictObject({
  url: z.string().min(1).meta({ description: 'A URL prefix, e.g. https://github.com/acme/.' }),
  username: z.string().optional(),
  password: secret('The password or token'),
  password_env: secretEnv('the password or token'),
  bearer_token: secret('A bearer token (instead of username and password)'),
  bearer_token_env: secretEnv('the bearer token'),
  ssh_key_file: z.string().optional().meta({ description: 'Private key for ssh:// URLs.' }),
});

export const providersSchema = z
  .strictObject({
    public_url: z
      .url()
      .optional()
      .meta({ description: 'How people reach conveyor serve, for the links in commit statuses.' }),
    github: githubSchema.optional(),
    gitlab: gitlabSchema.optional(),
    repositories: z.array(repositorySchema).default([]),
    /** Allow webhooks of repositories not listed under repositories (with their clone URL and .conveyor.yml). */
    allow_unlisted: z
      .boolean()
      .default(true)
      .meta({ description: 'Accept webhooks of repositories not listed under repositories.' }),
    credentials: z.array(credentialSchema).default([]),
  })
  .meta({ description: 'Webhooks, commit statuses and repository credentials (docs/triggers.md).' });

/** The validated `providers:` section. */
export type ProvidersSettings = z.output<typeof providersSchema>;
/** One repository entry. */
export type RepositorySettings = ProvidersSettings['repositories'][number];

/** A secret from its inline value, its `_env` variable, or Conveyor's fixed variable — whichever is set first. */
export function readSecret(
  env: NodeJS.ProcessEnv,
  settings: { inline?: string; envName?: string },
  fixedVariable?: string,
): string | undefined {
  if (fixedVariable && env[fixedVariable]) return env[fixedVariable];
  if (settings.envName && env[settings.envName]) return env[settings.envName];
  return settings.inline || undefined;
}

/** The credentials for a repository URL: the entry with the longest matching prefix. */
export function credentialsFor(
  settings: ProvidersSettings | undefined,
  env: NodeJS.ProcessEnv,
  url: string,
): { username?: string; password?: string; bearerToken?: string; sshKeyFile?: string } | undefined {
  const entry = [...(settings?.credentials ?? [])]
    .filter((candidate) => url.startsWith(candidate.url))
    .sort((a, b) => b.url.length - a.url.length)[0];
  if (!entry) return undefined;
  return {
    username: entry.username,
    password: readSecret(env, { inline: entry.password, envName: entry.password_env }),
    bearerToken: readSecret(env, { inline: entry.bearer_token, envName: entry.bearer_token_env }),
    sshKeyFile: entry.ssh_key_file,
  };
}
