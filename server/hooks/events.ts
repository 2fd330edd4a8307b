/**
 * GitHub and GitLab webhook payloads, read into one event shape (docs/triggers.md). Only the fields Conveyor uses
 * are checked; a payload missing one of them is refused with the field's name.
 */
import { z } from 'zod';
import { isZeroSha, parseRef } from '../../pipeline/source';
import type { PullRequestType } from '../../pipeline/trigger-schema';

/** A push or pull request event, whichever provider sent it. */
export interface HookEvent {
  provider: 'github' | 'gitlab';
  /** The delivery id: a redelivery carries the same one. */
  delivery: string;
  repository: {
    /** `owner/name` or the GitLab path with namespace. */
    name: string;
    cloneUrl: string;
    defaultBranch?: string;
    projectId?: number;
  };
  kind: 'push' | 'pull_request';
  commit: string;
  /** `refs/heads/x`, `refs/tags/v1`, `refs/pull/7/head`, `refs/merge-requests/7/head`. */
  ref: string;
  branch?: string;
  tag?: string;
  /** Push: the commit the ref pointed at before (all zeros for a new ref). */
  before?: string;
  pullRequest?: { number: number; action: PullRequestType; baseBranch: string; baseCommit?: string };
  author?: { name: string; email: string };
  message?: string;
  /** Files the payload lists as changed (pushes), when it lists them. */
  changedPaths?: string[];
}

/** What a payload turned into: an event, or nothing to do and why. */
export type ReadEvent = { event: HookEvent } | { ignored: string };

/** A payload that lacks what Conveyor needs. */
export class PayloadError extends Error {}

function parse<T extends z.ZodType>(schema: T, payload: unknown, what: string): z.output<T> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'the body';
  throw new PayloadError(`not a ${what} payload: ${where}: ${issue?.message ?? 'invalid'}`);
}

const sha = z.string().regex(/^[0-9a-f]{40}$/, { error: 'expected a 40-character commit SHA' });
const person = z.looseObject({ name: z.string().default(''), email: z.string().default('') });
const commitFiles = z.looseObject({
  id: z.string().optional(),
  message: z.string().optional(),
  author: person.optional(),
  added: z.array(z.string()).optional(),
  modified: z.array(z.string()).optional(),
  removed: z.array(z.string()).optional(),
});

const githubRepository = z.looseObject({
  full_name: z.string().min(1),
  clone_url: z.string().min(1),
  default_branch: z.string().optional(),
});

const githubPush = z.looseObject({
  ref: z.string().min(1),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean().optional(),
  repository: githubRepository,
  head_commit: commitFiles.nullable().optional(),
  commits: z.array(commitFiles).optional(),
});

const githubPullRequest = z.looseObject({
  action: z.string(),
  number: z.int().positive(),
  pull_request: z.looseObject({
    head: z.looseObject({ ref: z.string(), sha }),
    base: z.looseObject({ ref: z.string(), sha: sha.optional() }),
    title: z.string().optional(),
    user: z.looseObject({ login: z.string() }).optional(),
  }),
  repository: githubRepository,
});

/** Reads a GitHub `push` or `pull_request` payload. */
export function readGithubEvent(name: string, delivery: string, payload: unknown): ReadEvent {
  if (name === 'push') {
    const push = parse(githubPush, payload, 'GitHub push');
    if (push.deleted || isZeroSha(push.after)) return { ignored: `${push.ref} was deleted` };
    if (!/^[0-9a-f]{40}$/.test(push.after))
      throw new PayloadError('not a GitHub push payload: after: expected a commit SHA');
    const head = push.head_commit ?? push.commits?.at(-1);
    return {
      event: {
        provider: 'github',
        delivery,
        repository: {
          name: push.repository.full_name,
          cloneUrl: push.repository.clone_url,
          defaultBranch: push.repository.default_branch,
        },
        kind: 'push',
        commit: push.after,
        ref: push.ref,
        ...parseRef(push.ref),
        before: push.before,
        ...(head?.author ? { author: { name: head.author.name, email: head.author.email } } : {}),
        ...(head?.message !== undefined ? { message: firstLine(head.message) } : {}),
        ...changedFiles(push.commits),
      },
    };
  }
  const pull = parse(githubPullRequest, payload, 'GitHub pull_request');
  const action = pull.action as PullRequestType;
  return {
    event: {
      provider: 'github',
      delivery,
      repository: {
        name: pull.repository.full_name,
        cloneUrl: pull.repository.clone_url,
        defaultBranch: pull.repository.default_branch,
      },
      kind: 'pull_request',
      commit: pull.pull_request.head.sha,
      ref: `refs/pull/${pull.number}/head`,
      branch: pull.pull_request.head.ref,
      pullRequest: {
        number: pull.number,
        action,
        baseBranch: pull.pull_request.base.ref,
        ...(pull.pull_request.base.sha ? { baseCommit: pull.pull_request.base.sha } : {}),
      },
      ...(pull.pull_request.title ? { message: pull.pull_request.title } : {}),
    },
  };
}

const gitlabProject = z.looseObject({
  id: z.int().optional(),
  path_with_namespace: z.string().min(1),
  git_http_url: z.string().optional(),
  http_url: z.string().optional(),
  default_branch: z.string().optional(),
});

const gitlabPush = z.looseObject({
  object_kind: z.enum(['push', 'tag_push']),
  ref: z.string().min(1),
  before: z.string(),
  after: z.string(),
  checkout_sha: z.string().nullable().optional(),
  project_id: z.int().optional(),
  project: gitlabProject,
  commits: z.array(commitFiles).optional(),
  user_name: z.string().optional(),
  user_email: z.string().optional(),
});

const gitlabMergeRequest = z.looseObject({
  object_kind: z.literal('merge_request'),
  project: gitlabProject,
  object_attributes: z.looseObject({
    iid: z.int().positive(),
    action: z.string().optional(),
    source_branch: z.string(),
    target_branch: z.string(),
    oldrev: z.string().optional(),
    title: z.string().optional(),
    last_commit: z.looseObject({ id: sha, message: z.string().optional(), author: person.optional() }),
  }),
});

/** GitLab's merge request actions, as the pull request types triggers filter on. */
function gitlabAction(action: string | undefined, oldrev: string | undefined): PullRequestType | undefined {
  switch (action) {
    case 'open':
      return 'opened';
    case 'reopen':
      return 'reopened';
    case 'close':
    case 'merge':
      return 'closed';
    case 'update':
      // An update with `oldrev` moved the source branch (new commits); otherwise the title or labels changed.
      return oldrev ? 'synchronize' : 'edited';
    default:
      return undefined;
  }
}

function gitlabRepository(project: z.output<typeof gitlabProject>): HookEvent['repository'] {
  return {
    name: project.path_with_namespace,
    cloneUrl: project.git_http_url ?? project.http_url ?? '',
    defaultBranch: project.default_branch,
    ...(project.id !== undefined ? { projectId: project.id } : {}),
  };
}

/** Reads a GitLab `Push Hook`, `Tag Push Hook` or `Merge Request Hook` payload. */
export function readGitlabEvent(name: string, delivery: string, payload: unknown): ReadEvent {
  if (name === 'Push Hook' || name === 'Tag Push Hook') {
    const push = parse(gitlabPush, payload, `GitLab ${name}`);
    const commit = push.checkout_sha ?? push.after;
    if (isZeroSha(push.after) || !commit) return { ignored: `${push.ref} was deleted` };
    if (!/^[0-9a-f]{40}$/.test(commit))
      throw new PayloadError(`not a GitLab ${name} payload: after: expected a commit SHA`);
    const head = push.commits?.find((entry) => entry.id === commit) ?? push.commits?.at(-1);
    return {
      event: {
        provider: 'gitlab',
        delivery,
        repository: gitlabRepository(push.project),
        kind: 'push',
        commit,
        ref: push.ref,
        ...parseRef(push.ref),
        before: push.before,
        ...(head?.author
          ? { author: { name: head.author.name, email: head.author.email } }
          : push.user_name
            ? { author: { name: push.user_name, email: push.user_email ?? '' } }
            : {}),
        ...(head?.message !== undefined ? { message: firstLine(head.message) } : {}),
        ...changedFiles(push.commits),
      },
    };
  }
  const request = parse(gitlabMergeRequest, payload, 'GitLab Merge Request Hook');
  const attributes = request.object_attributes;
  const action = gitlabAction(attributes.action, attributes.oldrev);
  if (!action) return { ignored: `merge request action '${attributes.action ?? 'none'}' starts no run` };
  return {
    event: {
      provider: 'gitlab',
      delivery,
      repository: gitlabRepository(request.project),
      kind: 'pull_request',
      commit: attributes.last_commit.id,
      ref: `refs/merge-requests/${attributes.iid}/head`,
      branch: attributes.source_branch,
      pullRequest: { number: attributes.iid, action, baseBranch: attributes.target_branch },
      ...(attributes.last_commit.author
        ? { author: { name: attributes.last_commit.author.name, email: attributes.last_commit.author.email } }
        : {}),
      message: attributes.title ?? firstLine(attributes.last_commit.message ?? ''),
    },
  };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.slice(0, 200);
}

/** The files the payload's commits list (GitHub and GitLab list at most 20 commits: then nothing is claimed). */
function changedFiles(commits: Array<z.output<typeof commitFiles>> | undefined): { changedPaths?: string[] } {
  if (!commits || commits.length === 0 || commits.length >= 20) return {};
  const files = new Set<string>();
  for (const commit of commits) {
    for (const file of [...(commit.added ?? []), ...(commit.modified ?? []), ...(commit.removed ?? [])])
      files.add(file);
  }
  return { changedPaths: [...files] };
}
