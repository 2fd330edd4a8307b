/**
 * A run's source: which repository, at which exact commit, started by which event (docs/triggers.md). Recorded in
 * the run's input, status and search attributes, and turned into the `CONVEYOR_*` system variables every step sees.
 * Plain JSON, pure: used by the CLI, the server and inside workflows.
 */

/** What started a run. */
export type RunEvent = 'push' | 'pull_request' | 'schedule' | 'manual' | 'api';

/** The events, in the order the docs list them. */
export const runEvents: readonly RunEvent[] = ['push', 'pull_request', 'schedule', 'manual', 'api'];

/** The hosting service a source came from, for commit statuses. */
export interface SourceProvider {
  kind: 'github' | 'gitlab';
  /** `owner/name` (GitHub) or the project's path with namespace (GitLab). */
  repository: string;
  /** GitLab's numeric project id, when the webhook gave it. */
  projectId?: number;
}

/** The source of a run. */
export interface RunSource {
  /** Where the worker fetches from: a URL (`git://`, `http(s)://`, `file://`, `ssh://`) or an absolute path. */
  repository: string;
  /** The full 40-hex commit SHA every job of the run builds. */
  commit: string;
  /** The ref the commit was taken from: `refs/heads/main`, `refs/tags/v1.2`, `refs/pull/7/head`. */
  ref?: string;
  /** The branch (for a pull request: its head branch). */
  branch?: string;
  tag?: string;
  author?: { name: string; email: string };
  /** The commit message's first line. */
  message?: string;
  event: RunEvent;
  /** For pull/merge request events. */
  pullRequest?: { number: number; baseBranch: string; action?: string };
  /** Where the pipeline file was read from, relative to the repository root. */
  pipelineFile?: string;
  /** Set when `--allow-dirty` ran a snapshot of uncommitted work: the commit it sits on. */
  snapshotOf?: string;
  /** The hosting service, when the run should report commit statuses to it. */
  provider?: SourceProvider;
  /** The webhook delivery that started the run. */
  delivery?: string;
}

/** The source archive a worker made of the run's commit. */
export interface SourceArchive {
  /** `sha256:…` of the stored tar. */
  digest: string;
  size: number;
  files: number;
}

const zeroSha = /^0{40}$/;

/** Whether a SHA is git's "no commit" (a created or deleted branch in a push). */
export function isZeroSha(sha: string | undefined): boolean {
  return sha === undefined || zeroSha.test(sha);
}

/** `refs/heads/x` → branch x, `refs/tags/v1` → tag v1. */
export function parseRef(ref: string): { branch?: string; tag?: string } {
  if (ref.startsWith('refs/heads/')) return { branch: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { tag: ref.slice('refs/tags/'.length) };
  return {};
}

/** The event of a run started without a source: the CLI is a person (`manual`), anything else the API. */
export function eventOfTrigger(trigger: string): RunEvent {
  return trigger === 'cli' || trigger === 'rerun' ? 'manual' : 'api';
}

/**
 * The `CONVEYOR_*` variables of a source, every one present (empty when unknown) so that steps can test them
 * without `${VAR:-}`: `CONVEYOR_COMMIT`, `CONVEYOR_SHORT_COMMIT`, `CONVEYOR_REF`, `CONVEYOR_BRANCH`, `CONVEYOR_TAG`,
 * `CONVEYOR_EVENT`, `CONVEYOR_PR_NUMBER`, `CONVEYOR_BASE_BRANCH`, `CONVEYOR_REPOSITORY`, `CONVEYOR_COMMIT_MESSAGE`,
 * `CONVEYOR_COMMIT_AUTHOR`.
 */
export function sourceVariables(source: RunSource | undefined, trigger = 'cli'): Record<string, string> {
  return {
    CONVEYOR_COMMIT: source?.commit ?? '',
    CONVEYOR_SHORT_COMMIT: source?.commit.slice(0, 12) ?? '',
    CONVEYOR_REF: source?.ref ?? '',
    CONVEYOR_BRANCH: source?.branch ?? '',
    CONVEYOR_TAG: source?.tag ?? '',
    CONVEYOR_EVENT: source?.event ?? eventOfTrigger(trigger),
    CONVEYOR_PR_NUMBER: source?.pullRequest ? String(source.pullRequest.number) : '',
    CONVEYOR_BASE_BRANCH: source?.pullRequest?.baseBranch ?? '',
    CONVEYOR_REPOSITORY: source ? displayRepository(source) : '',
    CONVEYOR_COMMIT_MESSAGE: source?.message ?? '',
    CONVEYOR_COMMIT_AUTHOR: source?.author ? `${source.author.name} <${source.author.email}>` : '',
  };
}

/** The repository as people name it: the provider's `owner/name`, else the URL or path. */
export function displayRepository(source: RunSource): string {
  return source.provider?.repository ?? source.repository;
}

/** One line about a source for humans: `acme/app@1a2b3c4d5e6f (main) "Fix the parser"`. */
export function describeSource(source: RunSource): string {
  const where = source.branch ?? source.tag ?? source.ref;
  const snapshot = source.snapshotOf ? ` snapshot of uncommitted work on ${source.snapshotOf.slice(0, 12)}` : '';
  return `${displayRepository(source)}@${source.commit.slice(0, 12)}${where ? ` (${where})` : ''}${snapshot}${
    source.message ? ` "${source.message}"` : ''
  }`;
}
