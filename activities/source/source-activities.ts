/**
 * The source activities (docs/triggers.md), on the Docker task queue beside the artifact activities:
 *
 * - `prepareScheduledRun`: when a schedule fires, resolves its branch to the latest commit, reads the pipeline file
 *   at that commit and validates it, giving the run's input (the workflow cannot parse: no parser libraries in the
 *   workflow bundle).
 */
import { parsePipeline } from '../../pipeline';
import { sourceVariables, type RunSource, type SourceProvider } from '../../pipeline/source';
import type { PipelineRunInput } from '../../workflows/pipeline-run-messages';
import { PipelineConfigError, toApplicationFailure } from '../errors';
import type { GitRepositories } from './repositories';

/** What the source activities are wired to (STYLE.md 5). */
export interface SourceActivityDeps {
  repositories: GitRepositories;
  /** Image for steps that name none. */
  defaultImage: string;
}

/** What a schedule starts: a pipeline file of a repository, on a branch. */
export interface ScheduledRunInput {
  /** The schedule's id. */
  schedule: string;
  pipeline: string;
  repository: string;
  branch: string;
  /** The pipeline file, relative to the repository root. */
  file: string;
  provider?: SourceProvider;
}

/** The run a schedule starts, or why it cannot. */
export interface PreparedScheduledRun {
  input: PipelineRunInput;
}

/** Creates the source activities. */
export function createSourceActivities(deps: SourceActivityDeps) {
  const { repositories } = deps;

  async function prepareScheduledRun(request: ScheduledRunInput): Promise<PreparedScheduledRun> {
    try {
      const resolved = await repositories.resolve(request.repository, request.branch);
      const [text, info] = await Promise.all([
        repositories.readFile(request.repository, resolved.commit, request.file),
        repositories.commitInfo(request.repository, resolved.commit),
      ]);
      const source: RunSource = {
        repository: request.repository,
        commit: resolved.commit,
        ref: resolved.ref ?? `refs/heads/${request.branch}`,
        branch: request.branch,
        author: info.author,
        message: info.message,
        event: 'schedule',
        pipelineFile: request.file,
        ...(request.provider ? { provider: request.provider } : {}),
      };
      const result = parsePipeline(text, {
        file: request.file,
        defaultImage: deps.defaultImage,
        system: sourceVariables(source, 'schedule'),
      });
      if (!result.valid) {
        const first = result.errors[0]!;
        throw new PipelineConfigError(
          `${request.file} at ${resolved.commit.slice(0, 12)} is invalid: line ${first.line}: ${first.message}`,
          { file: request.file, commit: resolved.commit, line: first.line, column: first.column, code: first.code },
        );
      }
      return { input: { pipeline: result.pipeline, vars: {}, trigger: `schedule:${request.schedule}`, source } };
    } catch (error) {
      throw toApplicationFailure(error);
    }
  }

  return { prepareScheduledRun };
}
