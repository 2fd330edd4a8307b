/**
 * Commit statuses (docs/triggers.md): each run reports `pending`, then `success`, `failure` or `error`, with a link
 * to the run, to the provider's status API — GitHub's `POST /repos/{owner}/{repo}/statuses/{sha}`, GitLab's
 * `POST /projects/{id}/statuses/{sha}` — with the base URL and token of `conveyor.config.yml`. The activity runs on
 * the workflow task queue; the server uses the same function for pipelines that are invalid at a pushed commit.
 */
import { ApplicationFailure } from '@temporalio/common';
import { readSecret, type ProvidersSettings } from '../../config/providers';
import type { SourceProvider } from '../../pipeline/source';

/** Conveyor's states; each provider has its own words for them. */
export type CommitState = 'pending' | 'success' | 'failure' | 'error' | 'cancelled';

/** One status to post. */
export interface CommitStatusInput {
  provider: SourceProvider;
  commit: string;
  state: CommitState;
  /** At most 140 characters are sent (GitHub's limit). */
  description: string;
  /** The status' name: `conveyor/<pipeline>`. */
  context: string;
  /** The run, for the link (`<public url>/runs/<run>`). */
  runId?: string;
  /** GitLab: the branch or tag the status belongs to. */
  ref?: string;
}

/** What was sent, or why nothing was. */
export type CommitStatusResult = { posted: true; url: string; status: number } | { posted: false; reason: string };

/** Where posting needs its settings from. */
export interface CommitStatusDeps {
  providers: () => ProvidersSettings | undefined;
  env?: NodeJS.ProcessEnv;
  /** The API server's own address, for links when `providers.public_url` is not set. */
  apiAddress?: string;
  fetch?: typeof fetch;
}

const githubStates: Record<CommitState, string> = {
  pending: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
  cancelled: 'error',
};
const gitlabStates: Record<CommitState, string> = {
  pending: 'pending',
  success: 'success',
  failure: 'failed',
  error: 'failed',
  cancelled: 'canceled',
};

/** Posts one commit status; `{posted: false}` when the provider has no token or statuses are turned off. */
export async function postCommitStatus(deps: CommitStatusDeps, input: CommitStatusInput): Promise<CommitStatusResult> {
  const settings = deps.providers();
  const env = deps.env ?? process.env;
  const description = input.description.length > 140 ? `${input.description.slice(0, 139)}…` : input.description;
  const base = settings?.public_url ?? deps.apiAddress;
  const targetUrl =
    input.runId && base ? `${base.replace(/\/+$/, '')}/runs/${encodeURIComponent(input.runId)}` : undefined;
  let url: string;
  let token: string | undefined;
  let body: Record<string, unknown>;
  let headers: Record<string, string>;
  if (input.provider.kind === 'github') {
    const github = settings?.github;
    if (github?.statuses === false) return { posted: false, reason: 'providers.github.statuses is false' };
    token = readSecret(env, { inline: github?.token, envName: github?.token_env }, 'CONVEYOR_GITHUB_TOKEN');
    const api = (github?.api_url ?? 'https://api.github.com').replace(/\/+$/, '');
    url = `${api}/repos/${input.provider.repository.split('/').map(encodeURIComponent).join('/')}/statuses/${input.commit}`;
    body = { state: githubStates[input.state], description, context: input.context, target_url: targetUrl };
    headers = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' };
    if (token) headers.authorization = `Bearer ${token}`;
  } else {
    const gitlab = settings?.gitlab;
    if (gitlab?.statuses === false) return { posted: false, reason: 'providers.gitlab.statuses is false' };
    token = readSecret(env, { inline: gitlab?.token, envName: gitlab?.token_env }, 'CONVEYOR_GITLAB_TOKEN');
    const api = (gitlab?.api_url ?? 'https://gitlab.com/api/v4').replace(/\/+$/, '');
    const project = input.provider.projectId ?? input.provider.repository;
    url = `${api}/projects/${encodeURIComponent(String(project))}/statuses/${input.commit}`;
    body = {
      state: gitlabStates[input.state],
      description,
      name: input.context,
      target_url: targetUrl,
      ref: input.ref,
    };
    headers = {};
    if (token) headers['private-token'] = token;
  }
  if (!token)
    return {
      posted: false,
      reason: `no ${input.provider.kind} token configured (providers.${input.provider.kind}.token_env)`,
    };
  const response = await (deps.fetch ?? fetch)(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'conveyor' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    const message = `${input.provider.kind} answered ${response.status} to the commit status for ${input.commit.slice(0, 12)}: ${text.slice(0, 200)}`;
    // A rejected request (bad token, unknown repository) will be rejected again; a server error may pass later.
    const permanent = response.status >= 400 && response.status < 500 && response.status !== 429;
    throw ApplicationFailure.create({ type: 'CommitStatusError', message, nonRetryable: permanent });
  }
  return { posted: true, url, status: response.status };
}

/** The commit status activity (STYLE.md 5). */
export function createCommitStatusActivities(deps: CommitStatusDeps) {
  return {
    postCommitStatus: (input: CommitStatusInput): Promise<CommitStatusResult> => postCommitStatus(deps, input),
  };
}
