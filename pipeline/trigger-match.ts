/**
 * Whether an event starts a pipeline (docs/triggers.md): branch, tag and path filters with GitHub Actions'
 * semantics — `*` stops at `/`, `**` does not, a leading `!` excludes what earlier patterns included and the last
 * matching pattern decides — and pull request activity types. Pure: the server calls it for every webhook.
 */
import picomatch from 'picomatch/posix';
import { defaultPullRequestTypes, type PullRequestType, type TriggersInput } from './trigger-schema';

/** The facts of an event that triggers filter on. */
export type TriggerEvent =
  | {
      kind: 'push';
      /** Exactly one of branch and tag. */
      branch?: string;
      tag?: string;
      /** Files the push changed; `undefined` when unknown (path filters then pass). */
      changedPaths?: string[];
    }
  | {
      kind: 'pull_request';
      /** The branch the pull request merges into. */
      baseBranch: string;
      action: PullRequestType;
      changedPaths?: string[];
    };

/** The outcome: started, or why not (for the webhook's 202 answer). */
export type TriggerMatch = { matched: true } | { matched: false; reason: string };

const matchers = new Map<string, (value: string) => boolean>();

function matcher(pattern: string): (value: string) => boolean {
  let compiled = matchers.get(pattern);
  if (!compiled) {
    compiled = picomatch(pattern, { dot: true });
    if (matchers.size > 1000) matchers.clear();
    matchers.set(pattern, compiled);
  }
  return compiled;
}

/** Why a filter pattern cannot be used, or `undefined`. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.trim() === '' || pattern === '!') return 'the pattern is empty';
  if (pattern !== pattern.trim()) return `'${pattern}' starts or ends with spaces`;
  try {
    picomatch.makeRe(pattern.startsWith('!') ? pattern.slice(1) : pattern);
    return undefined;
  } catch (error) {
    return `'${pattern}' is not a valid pattern: ${(error as Error).message}`;
  }
}

/**
 * Whether `value` passes an ordered list of patterns: each pattern includes what it matches, each `!pattern`
 * excludes it again; the last pattern that matches decides. A list of only exclusions starts from "everything".
 */
export function matchesPatterns(value: string, patterns: readonly string[]): boolean {
  let included = patterns.every((pattern) => pattern.startsWith('!'));
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (matcher(negated ? pattern.slice(1) : pattern)(value)) included = !negated;
  }
  return included;
}

function refFilter(
  value: string,
  what: string,
  include: readonly string[] | undefined,
  ignore: readonly string[] | undefined,
): TriggerMatch {
  if (include && !matchesPatterns(value, include)) {
    return { matched: false, reason: `${what} '${value}' matches none of [${include.join(', ')}]` };
  }
  if (ignore && ignore.some((pattern) => matchesPatterns(value, [pattern]))) {
    return { matched: false, reason: `${what} '${value}' is ignored by [${ignore.join(', ')}]` };
  }
  return { matched: true };
}

function pathFilter(
  changed: readonly string[] | undefined,
  include: readonly string[] | undefined,
  ignore: readonly string[] | undefined,
): TriggerMatch {
  if (changed === undefined) return { matched: true };
  if (include && !changed.some((file) => matchesPatterns(file, include))) {
    return { matched: false, reason: `no changed file matches paths [${include.join(', ')}]` };
  }
  if (ignore && changed.length > 0 && changed.every((file) => matchesPatterns(file, ignore))) {
    return { matched: false, reason: `every changed file matches paths_ignore [${ignore.join(', ')}]` };
  }
  return { matched: true };
}

/** Whether `event` starts a pipeline with these triggers, and if not, why. */
export function matchTrigger(triggers: TriggersInput | undefined, event: TriggerEvent): TriggerMatch {
  if (!triggers) return { matched: false, reason: 'the pipeline has no triggers: section' };
  if (event.kind === 'push') {
    const push = triggers.push;
    if (!push) return { matched: false, reason: 'the pipeline has no push trigger' };
    if (event.tag !== undefined) {
      // As in GitHub Actions: a push trigger with only branch filters ignores tags, and the other way round.
      if (!push.tags && !push.tags_ignore && (push.branches || push.branches_ignore)) {
        return { matched: false, reason: `tag '${event.tag}': the push trigger filters branches only` };
      }
      return refFilter(event.tag, 'tag', push.tags, push.tags_ignore);
    }
    const branch = event.branch ?? '';
    if (!push.branches && !push.branches_ignore && (push.tags || push.tags_ignore)) {
      return { matched: false, reason: `branch '${branch}': the push trigger filters tags only` };
    }
    const refs = refFilter(branch, 'branch', push.branches, push.branches_ignore);
    if (!refs.matched) return refs;
    return pathFilter(event.changedPaths, push.paths, push.paths_ignore);
  }
  const pullRequest = triggers.pull_request;
  if (!pullRequest) return { matched: false, reason: 'the pipeline has no pull_request trigger' };
  const types = pullRequest.types ?? defaultPullRequestTypes;
  if (!types.includes(event.action)) {
    return { matched: false, reason: `pull request action '${event.action}' is not one of [${types.join(', ')}]` };
  }
  const refs = refFilter(event.baseBranch, 'base branch', pullRequest.branches, pullRequest.branches_ignore);
  if (!refs.matched) return refs;
  return pathFilter(event.changedPaths, pullRequest.paths, pullRequest.paths_ignore);
}
