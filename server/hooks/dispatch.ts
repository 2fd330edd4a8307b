/**
 * What a verified webhook event starts (docs/triggers.md): for each pipeline file of the repository, read at the
 * event's commit, validate it, keep the branch's schedules in step with it, match its triggers and start a run whose
 * workflow id holds the delivery id — so a redelivery is refused by Temporal and starts nothing.
 */
import type { FastifyBaseLogger } from 'fastify';
import { slug } from '../../activities/names';
import { postCommitStatus } from '../../activities/source/commit-status';
import {
  SourceNotFoundError,
  SourceUnavailableError,
  type GitRepositories,
} from '../../activities/source/repositories';
import { startRunOnce } from '../../client/run-control';
import { syncSchedules } from '../../client/schedules';
import type { RepositorySettings } from '../../config/providers';
import { parsePipeline } from '../../pipeline';
import { sourceVariables, type RunSource } from '../../pipeline/source';
import { matchTrigger, type TriggerEvent } from '../../pipeline/trigger-match';
import type { ServerContext } from '../context';
import type { HookEvent } from './events';

/** One pipeline's outcome. */
export interface PipelineOutcome {
  file: string;
  pipeline?: string;
  /** The run started, or the one a redelivery found. */
  runId?: string;
  outcome: 'started' | 'duplicate' | 'skipped' | 'missing' | 'invalid';
  reason?: string;
}

/** The outcome of an event. */
export interface DispatchResult {
  outcomes: PipelineOutcome[];
}

/** Thrown when the repository cannot be read now (the provider should deliver again later). */
export class RepositoryUnavailableError extends Error {}

/** Dispatches one event; throws RepositoryUnavailableError when the repository cannot be fetched. */
export async function dispatchEvent(
  context: ServerContext,
  repositories: GitRepositories,
  event: HookEvent,
  log: FastifyBaseLogger,
): Promise<DispatchResult> {
  const settings = context.settings().file.providers;
  const configured = settings?.repositories.find((entry) => entry.name === event.repository.name);
  if (!configured && settings?.allow_unlisted === false) {
    return {
      outcomes: [
        {
          file: '',
          outcome: 'skipped',
          reason: `repository '${event.repository.name}' is not listed under providers.repositories`,
        },
      ],
    };
  }
  const repository = configured?.url ?? event.repository.cloneUrl;
  const files = configured?.pipelines ?? ['.conveyor.yml'];
  try {
    await repositories.ensureCommit(repository, event.commit, event.ref);
  } catch (error) {
    if (error instanceof SourceUnavailableError) throw new RepositoryUnavailableError(error.message);
    if (error instanceof SourceNotFoundError) {
      return { outcomes: [{ file: '', outcome: 'skipped', reason: error.message }] };
    }
    throw error;
  }
  const source: RunSource = {
    repository,
    commit: event.commit,
    ref: event.ref,
    ...(event.branch ? { branch: event.branch } : {}),
    ...(event.tag ? { tag: event.tag } : {}),
    ...(event.author ? { author: event.author } : {}),
    ...(event.message !== undefined ? { message: event.message } : {}),
    event: event.kind,
    ...(event.pullRequest
      ? {
          pullRequest: {
            number: event.pullRequest.number,
            baseBranch: event.pullRequest.baseBranch,
            action: event.pullRequest.action,
          },
        }
      : {}),
    provider: {
      kind: event.provider,
      repository: event.repository.name,
      ...(event.repository.projectId !== undefined ? { projectId: event.repository.projectId } : {}),
    },
    delivery: event.delivery,
  };
  const triggerEvent = await toTriggerEvent(repositories, repository, event);
  const outcomes: PipelineOutcome[] = [];
  for (const file of files) {
    outcomes.push(
      await dispatchPipeline(context, repositories, { event, source, file, configured, triggerEvent }, log),
    );
  }
  return { outcomes };
}

async function dispatchPipeline(
  context: ServerContext,
  repositories: GitRepositories,
  request: {
    event: HookEvent;
    source: RunSource;
    file: string;
    configured?: RepositorySettings;
    triggerEvent: TriggerEvent;
  },
  log: FastifyBaseLogger,
): Promise<PipelineOutcome> {
  const { event, file } = request;
  const source: RunSource = { ...request.source, pipelineFile: file };
  let text: string;
  try {
    text = await repositories.readFile(source.repository, event.commit, file);
  } catch (error) {
    if (!(error instanceof SourceNotFoundError)) throw error;
    return { file, outcome: 'missing', reason: `${file} does not exist at ${event.commit.slice(0, 12)}` };
  }
  const result = parsePipeline(text, {
    file,
    defaultImage: context.config.defaultImage,
    system: sourceVariables(source, event.kind),
  });
  if (!result.valid) {
    const first = result.errors[0]!;
    const reason = `${file} at ${event.commit.slice(0, 12)} is invalid: line ${first.line}: ${first.message}`;
    await reportInvalid(context, source, /^name:\s*['"]?([^'"#\n]+?)['"]?\s*$/m.exec(text)?.[1] ?? file, reason, log);
    return { file, outcome: 'invalid', reason: `${reason}${first.hint ? ` (${first.hint})` : ''}` };
  }
  const pipeline = result.pipeline;
  if (event.kind === 'push' && event.branch) {
    // The pipeline on this branch may have gained, changed or lost schedules.
    const sync = await syncSchedules(
      context.client,
      context.config,
      {
        pipeline: pipeline.name,
        repository: source.repository,
        file,
        branch: event.branch,
        defaultBranch: event.repository.defaultBranch ?? 'main',
        provider: source.provider,
      },
      pipeline.triggers?.schedule,
    ).catch((error: unknown) => {
      log.warn({ err: error }, 'could not sync the schedules of %s', pipeline.name);
      return undefined;
    });
    if (sync && sync.created.length + sync.updated.length + sync.deleted.length > 0)
      log.info({ sync }, 'schedules synced');
  }
  const match = matchTrigger(pipeline.triggers, request.triggerEvent);
  if (!match.matched) return { file, pipeline: pipeline.name, outcome: 'skipped', reason: match.reason };
  const runId = `run-${slug(pipeline.name)}-${event.provider === 'github' ? 'gh' : 'gl'}-${slug(event.delivery)}`;
  const started = await startRunOnce(
    context.client,
    context.config,
    { pipeline, vars: pipeline.variables ?? {}, trigger: `${event.provider}:${event.kind}`, source },
    runId,
  );
  return { file, pipeline: pipeline.name, runId, outcome: started ? 'started' : 'duplicate' };
}

/** The facts triggers filter on, with the changed files from git (or the payload). */
async function toTriggerEvent(
  repositories: GitRepositories,
  repository: string,
  event: HookEvent,
): Promise<TriggerEvent> {
  if (event.kind === 'pull_request') {
    const pull = event.pullRequest!;
    let changedPaths: string[] | undefined;
    if (pull.baseCommit) {
      await repositories
        .ensureCommit(repository, pull.baseCommit, `refs/heads/${pull.baseBranch}`)
        .catch(() => undefined);
      changedPaths = await repositories
        .changedPaths(repository, pull.baseCommit, event.commit, { sinceMergeBase: true })
        .catch(() => undefined);
    }
    return { kind: 'pull_request', baseBranch: pull.baseBranch, action: pull.action, changedPaths };
  }
  let changedPaths = event.changedPaths;
  if (event.before && !/^0{40}$/.test(event.before)) {
    changedPaths =
      (await repositories.changedPaths(repository, event.before, event.commit).catch(() => undefined)) ?? changedPaths;
  }
  return event.tag !== undefined
    ? { kind: 'push', tag: event.tag }
    : { kind: 'push', branch: event.branch ?? '', changedPaths };
}

/** A failed commit status for a pipeline that is invalid at the commit, naming its first error's line. */
async function reportInvalid(
  context: ServerContext,
  source: RunSource,
  pipelineName: string,
  reason: string,
  log: FastifyBaseLogger,
) {
  await postCommitStatus(
    {
      providers: () => context.settings().file.providers,
      env: context.env,
      apiAddress: `http://${context.config.api.host}:${context.config.api.port}`,
    },
    {
      provider: source.provider!,
      commit: source.commit,
      state: 'failure',
      description: reason,
      // The pipeline's name when the file still names it, so the status replaces that of its runs.
      context: `conveyor/${pipelineName}`,
      ...(source.branch || source.tag ? { ref: source.branch ?? source.tag } : {}),
    },
  ).catch((error: unknown) => log.warn({ err: error }, 'could not post the commit status'));
}
