/**
 * Reading repositories at exact commits (docs/triggers.md): local paths and `file://` URLs are read in place;
 * anything else (`git://`, `http(s)://`, `ssh://`) is fetched into a bare mirror under a cache directory, one per
 * URL, fetching only the commits asked for. Used by the CLI (`--repo`), the server (webhooks read the pipeline
 * file at the pushed commit) and the worker (the run's source archive), each with a cache directory of its own.
 */
import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ConveyorError } from '../errors';
import { git, GitError, gitStream, isFullSha, redactUrl, type GitCredentials } from './git';

/** The repository or the ref does not exist, or the pipeline file is not at the commit. */
export class SourceNotFoundError extends ConveyorError {
  readonly retryable = false;
}

/** The repository could not be reached (network, server down): retrying later may work. */
export class SourceUnavailableError extends ConveyorError {
  readonly retryable = true;
}

/** What a commit says about itself. */
export interface CommitInfo {
  commit: string;
  author: { name: string; email: string };
  /** The message's first line. */
  message: string;
}

/** A ref resolved to a commit. */
export interface ResolvedRef {
  commit: string;
  /** The full ref name when the ref was a branch or tag (`refs/heads/main`); absent for a SHA. */
  ref?: string;
  branch?: string;
  tag?: string;
}

/** A submodule of a commit: where it goes, at which commit, from where. */
export interface Submodule {
  path: string;
  commit: string;
  url: string;
}

/** A submodule URL relative to its superproject (`./x`, `../x`) made absolute, as `git submodule` does. */
export function resolveSubmoduleUrl(superproject: string, url: string): string {
  if (!url.startsWith('./') && !url.startsWith('../')) return url;
  if (GitRepositories.isLocal(superproject)) {
    const base = superproject.startsWith('file://') ? decodeURIComponent(new URL(superproject).pathname) : superproject;
    return path.resolve(base.replace(/\/+$/, ''), url);
  }
  return new URL(url, `${superproject.replace(/\/+$/, '')}/`).toString();
}

/** Options of {@link GitRepositories}. */
export interface GitRepositoriesOptions {
  /** Where mirrors of remote repositories are kept. */
  cacheDir: string;
  /** Credentials for a URL, from the configuration (`providers.credentials`). */
  credentials?: (url: string) => GitCredentials | undefined;
}

const unreachable =
  /could not read from remote|connection refused|unable to access|could not resolve host|timed out|connection reset|early eof|the remote end hung up/i;

/** Access to repositories by URL or path; safe for concurrent use within one process. */
export class GitRepositories {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly options: GitRepositoriesOptions) {}

  /** Whether `repository` is read in place (a path or `file://` URL). */
  static isLocal(repository: string): boolean {
    return repository.startsWith('/') || repository.startsWith('file://');
  }

  /** The directory git reads for `repository`: the path itself, or its mirror. */
  async directory(repository: string): Promise<string> {
    if (GitRepositories.isLocal(repository)) {
      const local = repository.startsWith('file://') ? decodeURIComponent(new URL(repository).pathname) : repository;
      await stat(local).catch(() => {
        throw new SourceNotFoundError(`repository '${repository}' does not exist on this host`, { repository });
      });
      return local;
    }
    const parsed = safeUrl(repository);
    const readable = `${parsed?.host ?? 'repo'}${parsed?.pathname ?? ''}`
      .replace(/[^a-zA-Z0-9_.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60);
    const hash = createHash('sha256').update(repository).digest('hex').slice(0, 10);
    const mirror = path.join(this.options.cacheDir, `${readable}-${hash}.git`);
    await this.exclusive(mirror, async () => {
      if (await stat(path.join(mirror, 'HEAD')).catch(() => undefined)) return;
      await mkdir(mirror, { recursive: true });
      await git(['init', '--quiet', '--bare', mirror], 'creating a repository mirror');
      // Objects are fetched without refs: never let git collect them.
      await git(['config', 'gc.auto', '0'], 'configuring a repository mirror', { cwd: mirror });
    });
    return mirror;
  }

  /**
   * Resolves a branch, tag or SHA to a commit. Remote refs are looked up with `ls-remote` (a branch wins over a
   * tag of the same name, as git does); a full SHA is taken as it is.
   */
  async resolve(repository: string, ref: string): Promise<ResolvedRef> {
    const directory = await this.directory(repository);
    if (GitRepositories.isLocal(repository)) {
      const commit = await this.run(
        ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`],
        repository,
        `ref '${ref}'`,
        {
          cwd: directory,
        },
      ).catch(() => {
        throw new SourceNotFoundError(`'${ref}' is not a branch, tag or commit of ${repository}`, { repository, ref });
      });
      const full = (
        await git(['rev-parse', '--symbolic-full-name', ref], 'naming a ref', { cwd: directory }).catch(() => '')
      ).trim();
      return { commit: commit.trim(), ...refNames(full.startsWith('refs/') ? full : undefined) };
    }
    if (isFullSha(ref)) {
      await this.ensureCommit(repository, ref);
      return { commit: ref };
    }
    const listing = await this.run(['ls-remote', repository, ref], repository, `looking up '${ref}'`);
    const refs = listing
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [sha, name] = line.split('\t');
        return { sha: sha ?? '', name: name ?? '' };
      });
    const wanted = [ref, `refs/heads/${ref}`, `refs/tags/${ref}^{}`, `refs/tags/${ref}`];
    const found = wanted.map((name) => refs.find((entry) => entry.name === name)).find(Boolean);
    if (!found) {
      const hint = /^[0-9a-f]{4,39}$/.test(ref)
        ? ' (give a commit of a remote repository as its full 40-character SHA)'
        : '';
      throw new SourceNotFoundError(`no branch or tag '${ref}' in ${redactUrl(repository)}${hint}`, {
        repository: redactUrl(repository),
        ref,
      });
    }
    const name = found.name.replace(/\^\{\}$/, '');
    await this.ensureCommit(repository, found.sha, name);
    return { commit: found.sha, ...refNames(name.startsWith('refs/') ? name : undefined) };
  }

  /** Makes sure the commit is readable locally: fetched by SHA, or by `refHint` when the server refuses SHAs. */
  async ensureCommit(repository: string, commit: string, refHint?: string): Promise<void> {
    const directory = await this.directory(repository);
    if (await this.hasCommit(directory, commit)) return;
    if (GitRepositories.isLocal(repository)) {
      throw new SourceNotFoundError(`commit ${commit.slice(0, 12)} is not in ${repository}`, { repository, commit });
    }
    await this.exclusive(directory, async () => {
      if (await this.hasCommit(directory, commit)) return;
      const fetch = (what: string) =>
        this.run(
          ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', repository, what],
          repository,
          `fetching ${what}`,
          {
            cwd: directory,
          },
        );
      try {
        await fetch(commit);
      } catch (error) {
        if (error instanceof SourceUnavailableError || !refHint) throw error;
        await fetch(refHint);
      }
    });
    if (!(await this.hasCommit(directory, commit))) {
      throw new SourceNotFoundError(`commit ${commit.slice(0, 12)} is not in ${redactUrl(repository)}`, {
        repository: redactUrl(repository),
        commit,
      });
    }
  }

  /** The text of `file` at `commit`; a SourceNotFoundError when the commit has no such file. */
  async readFile(repository: string, commit: string, file: string): Promise<string> {
    const directory = await this.directory(repository);
    const object = `${commit}:${file.replace(/^\.\//, '')}`;
    const type = await git(['cat-file', '-t', object], 'reading a file', { cwd: directory }).catch(() => '');
    if (type.trim() !== 'blob') {
      throw new SourceNotFoundError(`${file} does not exist at commit ${commit.slice(0, 12)}`, { file, commit });
    }
    return git(['cat-file', 'blob', object], `reading ${file}`, { cwd: directory });
  }

  /** Author and first message line of a commit. */
  async commitInfo(repository: string, commit: string): Promise<CommitInfo> {
    const directory = await this.directory(repository);
    const out = await git(['show', '-s', '--format=%an%x00%ae%x00%s', commit], 'reading a commit', { cwd: directory });
    const [name = '', email = '', message = ''] = out.replace(/\n$/, '').split('\0');
    return { commit, author: { name, email }, message };
  }

  /**
   * Files that differ between two commits (`git diff --name-only`; with `sinceMergeBase`, between `to` and the
   * merge base of both), or `undefined` when `from` is not known here
   * (then path filters cannot be applied and pass).
   */
  async changedPaths(
    repository: string,
    from: string,
    to: string,
    options: { sinceMergeBase?: boolean } = {},
  ): Promise<string[] | undefined> {
    const directory = await this.directory(repository);
    if (!(await this.hasCommit(directory, from))) {
      if (GitRepositories.isLocal(repository)) return undefined;
      await this.ensureCommit(repository, from).catch(() => undefined);
      if (!(await this.hasCommit(directory, from))) return undefined;
    }
    // `from...to` compares with the merge base, as a pull request's "files changed" does.
    const range = options.sinceMergeBase ? [`${from}...${to}`] : [from, to];
    const out = await git(['diff', '--name-only', '--no-renames', '-z', ...range], 'listing changed files', {
      cwd: directory,
    });
    return out.split('\0').filter(Boolean);
  }

  /** How many files (blobs and links) the commit's tree holds. */
  async countFiles(repository: string, commit: string): Promise<number> {
    const directory = await this.directory(repository);
    const out = await git(['ls-tree', '-r', '-z', '--name-only', commit], 'listing files', { cwd: directory });
    return out.split('\0').filter(Boolean).length;
  }

  /** A tar stream of the commit's tree (`git archive`); it fails if git does. */
  async archive(repository: string, commit: string, signal?: AbortSignal): Promise<Readable> {
    const directory = await this.directory(repository);
    // Modes 0644 and 0755 in the archive itself (git's default umask 0002 gives 0664 and 0775).
    return gitStream(['-c', 'tar.umask=0022', 'archive', '--format=tar', commit], `archiving ${commit.slice(0, 12)}`, {
      cwd: directory,
      signal,
    });
  }

  /**
   * The submodules of the commit's tree (docs/triggers.md): each gitlink's path and commit, with the URL that
   * `.gitmodules` at that commit gives it — relative URLs (`../lib.git`) resolved against `repository`, as git does.
   */
  async submodules(repository: string, commit: string): Promise<Submodule[]> {
    const directory = await this.directory(repository);
    const tree = await git(['ls-tree', '-r', '-z', commit], 'listing submodules', { cwd: directory });
    const links = tree
      .split('\0')
      .filter((line) => line.startsWith('160000 commit '))
      .map((line) => {
        const [meta, file] = line.split('\t') as [string, string];
        return { path: file, commit: meta.split(' ')[2]! };
      });
    if (links.length === 0) return [];
    const config = await git(
      ['config', '--blob', `${commit}:.gitmodules`, '--get-regexp', '^submodule\\..*\\.(path|url)$'],
      'reading .gitmodules',
      { cwd: directory },
    ).catch(() => '');
    const byName = new Map<string, { path?: string; url?: string }>();
    for (const line of config.split('\n').filter(Boolean)) {
      const match = /^submodule\.(.+)\.(path|url) (.*)$/.exec(line);
      if (!match) continue;
      const entry = byName.get(match[1]!) ?? {};
      entry[match[2] as 'path' | 'url'] = match[3]!;
      byName.set(match[1]!, entry);
    }
    return links.map((link) => {
      const url = [...byName.values()].find((entry) => entry.path === link.path)?.url;
      if (!url) {
        throw new SourceNotFoundError(
          `submodule '${link.path}' at ${commit.slice(0, 12)} has no url in .gitmodules: add one, or set checkout.submodules to false`,
          { repository: redactUrl(repository), commit },
        );
      }
      return { ...link, url: resolveSubmoduleUrl(repository, url) };
    });
  }

  private async hasCommit(directory: string, commit: string): Promise<boolean> {
    if (!isFullSha(commit)) return false;
    return git(['cat-file', '-e', `${commit}^{commit}`], 'checking a commit', { cwd: directory }).then(
      () => true,
      () => false,
    );
  }

  /** Runs git against a repository with its credentials, classifying failures. */
  private async run(args: string[], repository: string, what: string, options: { cwd?: string } = {}): Promise<string> {
    const display = redactUrl(repository);
    try {
      return await git(args, `${what} in ${display}`, {
        cwd: options.cwd,
        credentials: this.options.credentials?.(repository),
      });
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      if (unreachable.test(error.stderr) && !/not found|does not exist|repository .* not/i.test(error.stderr)) {
        throw new SourceUnavailableError(error.message, { repository: display });
      }
      throw new SourceNotFoundError(error.message, { repository: display });
    }
  }

  /** Runs `body` while no other call of this process works on the same mirror. */
  private async exclusive<T>(key: string, body: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(body, body);
    const settled = next.catch(() => undefined);
    this.locks.set(key, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }
}

function refNames(ref: string | undefined): { ref?: string; branch?: string; tag?: string } {
  if (!ref) return {};
  if (ref.startsWith('refs/heads/')) return { ref, branch: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { ref, tag: ref.slice('refs/tags/'.length) };
  return { ref };
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
