/**
 * Where `conveyor run` takes its pipeline and sources from (docs/triggers.md):
 *
 * - inside a git work tree, the checked-out commit (or `--ref`), with the pipeline file read from that commit
 *   (default `.conveyor.yml` at the root); uncommitted work is refused unless `--allow-dirty`, which runs a
 *   snapshot commit of the working files;
 * - with `--repo URL|PATH`, that repository at `--ref` (default its HEAD), fetched with the credentials of
 *   `conveyor.config.yml`;
 * - outside a work tree, a pipeline file on its own, with no sources (as before).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { credentialsFor } from '../config/providers';
import { parsePipeline } from '../pipeline';
import { describeSource, type RunSource } from '../pipeline/source';
import type { ConveyorConfig } from '../workers/config';
import { GitRepositories, SourceNotFoundError, SourceUnavailableError } from '../activities/source/repositories';
import { describeWorkTree, findWorkTree, snapshotWorkTree } from '../activities/source/work-tree';
import { CliError } from './cli-error';
import { readPipelineSource } from './pipeline-file';

/** The default pipeline file of a repository. */
export const defaultPipelineFile = '.conveyor.yml';

/** What `conveyor run` was asked for. */
export interface SourceRequest {
  /** The pipeline file argument, if any. */
  file?: string;
  ref?: string;
  repo?: string;
  allowDirty?: boolean;
  /** Use the committed HEAD even when the work tree has uncommitted changes (`schedules sync`). */
  committedOnly?: boolean;
  /** Where relative paths are resolved (the shell's directory). */
  cwd: string;
  /**
   * The work tree root, when the caller has already started looking it up (`findWorkTree` of the file's directory,
   * or of `cwd` without a file) so that the lookup overlaps its own start-up.
   */
  workTree?: Promise<string | undefined>;
}

/** The pipeline text to parse and the source of the run (absent for a file outside any repository). */
export interface ResolvedRunSource {
  /** The pipeline's text. */
  text: string;
  /** How diagnostics name the file: `FILE` or `FILE@sha`. */
  label: string;
  source?: RunSource;
  /** Lines for the person running it (snapshot notice, source). */
  notices: string[];
}

/** Resolves a `conveyor run` request into the pipeline text and the run's source. */
export async function resolveRunSource(config: ConveyorConfig, request: SourceRequest): Promise<ResolvedRunSource> {
  const repositories = new GitRepositories({
    cacheDir: path.join(config.dataDir, 'git', 'client'),
    credentials: (url) => credentialsFor(config.file.providers, process.env, url),
  });
  try {
    if (request.repo) return await fromRepository(repositories, request);
    return await fromWorkTree(repositories, request);
  } catch (error) {
    if (error instanceof SourceNotFoundError || error instanceof SourceUnavailableError)
      throw new CliError(error.message);
    throw error;
  }
}

async function fromRepository(repositories: GitRepositories, request: SourceRequest): Promise<ResolvedRunSource> {
  const repo = request.repo!;
  const repository = /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) ? repo : path.resolve(request.cwd, repo);
  if (request.allowDirty) throw new CliError('--allow-dirty applies to the work tree you are in, not to --repo', 2);
  const resolved = await repositories.resolve(repository, request.ref ?? 'HEAD');
  const file = normaliseRepositoryPath(request.file ?? defaultPipelineFile);
  const text = await repositories.readFile(repository, resolved.commit, file);
  const info = await repositories.commitInfo(repository, resolved.commit);
  const source: RunSource = {
    repository,
    commit: resolved.commit,
    ...(resolved.ref ? { ref: resolved.ref } : {}),
    ...(resolved.branch ? { branch: resolved.branch } : {}),
    ...(resolved.tag ? { tag: resolved.tag } : {}),
    author: info.author,
    message: info.message,
    event: 'manual',
    pipelineFile: file,
  };
  return {
    text,
    label: `${file}@${resolved.commit.slice(0, 12)}`,
    source,
    notices: [`source: ${describeSource(source)}`],
  };
}

async function fromWorkTree(repositories: GitRepositories, request: SourceRequest): Promise<ResolvedRunSource> {
  const fileArgument = request.file ? path.resolve(request.cwd, request.file) : undefined;
  const root = await (request.workTree ?? findWorkTree(fileArgument ? path.dirname(fileArgument) : request.cwd));
  if (!root) {
    if (request.ref) throw new CliError('--ref needs a git work tree (or --repo URL|PATH)', 2);
    if (!fileArgument) {
      throw new CliError(
        `no pipeline file given and ${request.cwd} is not inside a git work tree: give a file, or run inside a repository with a ${defaultPipelineFile}`,
        2,
      );
    }
    return { text: await readPipelineSource(request.file!), label: request.file!, notices: [] };
  }
  if (fileArgument && !request.ref && !request.committedOnly && (await takesNoSources(fileArgument))) {
    // Nothing of the repository reaches the jobs: the file runs as it is, whatever state the work tree is in.
    return { text: await readPipelineSource(request.file!), label: request.file!, notices: [] };
  }
  const file = normaliseRepositoryPath(path.relative(root, fileArgument ?? path.join(root, defaultPipelineFile)));
  if (file.startsWith('../')) throw new CliError(`${request.file} is outside the work tree ${root}`, 2);
  const tree = await describeWorkTree(root);
  const notices: string[] = [];
  let commit: string;
  let names: Pick<RunSource, 'ref' | 'branch' | 'tag' | 'snapshotOf'>;
  if (request.ref) {
    const resolved = await repositories.resolve(root, request.ref);
    commit = resolved.commit;
    names = { ref: resolved.ref, branch: resolved.branch, tag: resolved.tag };
  } else if (tree.changes.length > 0 && !request.committedOnly) {
    if (!request.allowDirty) {
      throw new CliError(
        `the work tree has uncommitted changes (${describeChanges(tree.changes)}): commit or stash them, or run with --allow-dirty to build a snapshot of the working files`,
        2,
      );
    }
    commit = await snapshotWorkTree(tree);
    names = {
      ...(tree.branch ? { branch: tree.branch, ref: `refs/heads/${tree.branch}` } : {}),
      snapshotOf: tree.head,
    };
    notices.push(
      `building a snapshot of uncommitted work (${describeChanges(tree.changes)}) on ${tree.head.slice(0, 12)}: commit ${commit.slice(0, 12)}`,
    );
  } else {
    commit = tree.head;
    names = tree.branch ? { branch: tree.branch, ref: `refs/heads/${tree.branch}` } : {};
  }
  let text: string;
  try {
    text = await repositories.readFile(root, commit, file);
  } catch (error) {
    if (!(error instanceof SourceNotFoundError)) throw error;
    const exists = await readFile(path.join(root, file), 'utf8').then(
      () => true,
      () => false,
    );
    throw new CliError(
      exists
        ? `${file} is not committed at ${commit.slice(0, 12)}: commit it, or run with --allow-dirty`
        : `no ${file} at ${commit.slice(0, 12)} in ${root}: add one, or name the pipeline file`,
      2,
    );
  }
  const info = await repositories.commitInfo(root, commit);
  const source: RunSource = {
    repository: root,
    commit,
    ...Object.fromEntries(Object.entries(names).filter(([, value]) => value !== undefined)),
    author: info.author,
    message: info.message,
    event: 'manual',
    pipelineFile: file,
  };
  notices.push(`source: ${describeSource(source)}`);
  return { text, label: file, source, notices };
}

/** Whether the pipeline in `file` (as it is on disk) gives no job the sources (`checkout: false` everywhere). */
async function takesNoSources(file: string): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  const result = parsePipeline(text);
  return result.valid && result.pipeline.jobs.every((job) => job.checkout === false);
}

function normaliseRepositoryPath(file: string): string {
  return file.split(path.sep).join('/').replace(/^\.\//, '');
}

function describeChanges(changes: readonly string[]): string {
  const shown = changes.slice(0, 3).map((line) => line.trim().replace(/\s+/, ' '));
  const more = changes.length > 3 ? `, … ${changes.length - 3} more` : '';
  return `${changes.length} file${changes.length === 1 ? '' : 's'}: ${shown.join(', ')}${more}`;
}
