import { checkWorkspacePath, normaliseWorkingDirectory } from './artifact-path';
import type { DiagnosticCollector } from './diagnostics';
import { checkImageReference } from './image-reference';
import type { PathSegment } from './path';

/**
 * Checks of one job that the schema cannot express: unique step names, image references (without pulling),
 * artifact paths that stay in the workspace, safe working directories. Works on the job as written (variables
 * resolved) and skips whatever has the wrong shape, so these problems are reported even when the schema also
 * found some.
 */
export function checkJob(
  job: Record<string, unknown>,
  path: readonly PathSegment[],
  collector: DiagnosticCollector,
): void {
  const firstStepByName = new Map<string, number>();
  const steps = Array.isArray(job.steps) ? job.steps : [];
  steps.forEach((step: unknown, index) => {
    if (!isRecord(step)) return;
    const stepPath = [...path, 'steps', index];
    if (typeof step.name === 'string') {
      const first = firstStepByName.get(step.name);
      if (first === undefined) firstStepByName.set(step.name, index);
      else {
        collector.error({
          code: 'duplicate_name',
          problem: `duplicate step name '${step.name}' (steps[${first}] has the same name)`,
          path: [...stepPath, 'name'],
          hint: 'step names must be unique within a job: rename one of them',
        });
      }
    }
    if (typeof step.image === 'string') checkImage(step.image, [...stepPath, 'image'], collector);
    if (typeof step.working_directory === 'string') {
      const result = normaliseWorkingDirectory(step.working_directory);
      if ('problem' in result) {
        collector.error({
          code: 'unsafe_path',
          problem: result.problem,
          path: [...stepPath, 'working_directory'],
          hint: 'use an absolute container path such as /workspace/app, or a path relative to /workspace',
        });
      }
    }
  });
  if (typeof job.image === 'string') checkImage(job.image, [...path, 'image'], collector);
  if (isRecord(job.artifacts)) {
    for (const [name, artifact] of Object.entries(job.artifacts))
      checkArtifact(artifact, [...path, 'artifacts', name], collector);
  }
  if (Array.isArray(job.artifacts_from)) checkArtifactsFrom(job, path, collector);
}

/** `artifacts_from` may only name jobs this one depends on: their artifacts are the only ones it can receive. */
function checkArtifactsFrom(
  job: Record<string, unknown>,
  path: readonly PathSegment[],
  collector: DiagnosticCollector,
) {
  const dependencies = [job.depends_on, job.needs].flatMap((value) =>
    typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v) => typeof v === 'string') : [],
  );
  (job.artifacts_from as unknown[]).forEach((name, index) => {
    if (typeof name !== 'string' || dependencies.includes(name)) return;
    collector.error({
      code: 'unknown_dependency',
      problem: `artifacts_from names '${name}', which this job does not depend on`,
      path: [...path, 'artifacts_from', index],
      hint:
        dependencies.length > 0
          ? `receive artifacts only from jobs in needs/depends_on (${dependencies.join(', ')}), or add '${name}' there`
          : `add '${name}' to needs/depends_on, or remove it from artifacts_from`,
    });
  });
}

function checkArtifact(artifact: unknown, path: PathSegment[], collector: DiagnosticCollector): void {
  const paths = isRecord(artifact) ? artifact.paths : artifact;
  const base = isRecord(artifact) ? [...path, 'paths'] : path;
  const entries: Array<[unknown, PathSegment[]]> = Array.isArray(paths)
    ? paths.map((item: unknown, index) => [item, [...base, index]])
    : [[paths, base]];
  for (const [value, valuePath] of entries) {
    if (typeof value !== 'string') continue;
    const problem = checkWorkspacePath(value);
    if (problem) {
      collector.error({
        code: 'unsafe_path',
        problem,
        path: valuePath,
        hint: 'artifact paths are relative to the job workspace (/workspace), e.g. build/app or dist/**/*.js',
      });
    }
  }
}

/** Reports an invalid image reference at `path`; references holding a run-time variable are skipped. */
export function checkImage(reference: string, path: PathSegment[], collector: DiagnosticCollector): void {
  // A reference still holding a run-time variable can only be checked when the run starts.
  if (reference.includes('${')) return;
  const problem = checkImageReference(reference);
  if (problem) {
    collector.error({
      code: 'invalid_image',
      problem,
      path,
      hint: 'write an image reference as [registry/]repository[:tag][@sha256:digest], e.g. ubuntu:20.04 or ghcr.io/acme/app:1.2',
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
