import { checkWorkspacePath } from './artifact-path';
import { didYouMean, listNames } from './did-you-mean';
import type { DiagnosticCollector } from './diagnostics';

/**
 * Checks a deploy job's `build_image:` against the other jobs (docs/deployments.md#building-the-image): its
 * `context` must name an artifact of a job it takes artifacts from (`artifacts_from`, default every job it needs),
 * and its `dockerfile` must be a relative path inside that artifact. Works on the jobs as written and skips whatever
 * has the wrong shape or still holds a variable; the schema reports those.
 */
export function checkBuildImages(jobs: Record<string, unknown>, collector: DiagnosticCollector): void {
  for (const [name, job] of Object.entries(jobs)) {
    if (!isRecord(job) || !isRecord(job.deploy) || !isRecord(job.deploy.build_image)) continue;
    const build = job.deploy.build_image;
    const path = ['jobs', name, 'deploy', 'build_image'];
    if (typeof build.dockerfile === 'string' && !build.dockerfile.includes('${')) {
      const problem = checkWorkspacePath(build.dockerfile);
      if (problem) {
        collector.error({
          code: 'unsafe_path',
          problem: `dockerfile: ${problem}`,
          path: [...path, 'dockerfile'],
          hint: 'give the Dockerfile’s path inside the context artifact, e.g. Dockerfile or docker/web.Dockerfile',
        });
      }
    }
    const context = build.context;
    if (typeof context !== 'string' || context.includes('${')) continue;
    const dependencies = names(job.needs).concat(names(job.depends_on));
    const sources = Array.isArray(job.artifacts_from)
      ? names(job.artifacts_from).filter((source) => dependencies.includes(source))
      : dependencies;
    const received = sources.flatMap((source) => {
      const producer = jobs[source];
      return isRecord(producer) && isRecord(producer.artifacts) ? Object.keys(producer.artifacts) : [];
    });
    if (received.includes(context)) continue;
    const producers = Object.entries(jobs)
      .filter(([, other]) => isRecord(other) && isRecord(other.artifacts) && context in other.artifacts)
      .map(([producer]) => producer);
    const hint =
      producers.length > 0
        ? `'${context}' is stored by ${producers.join(', ')}: add ${producers.length > 1 ? 'one of them' : `'${producers[0]}'`} to this job's needs${Array.isArray(job.artifacts_from) ? ' and artifacts_from' : ''}`
        : received.length > 0
          ? `name an artifact this job receives (${listNames(received)})`
          : `store the build context as an artifact of a job this one needs (artifacts: {${context}: …})`;
    collector.error({
      code: 'unknown_artifact',
      problem: `artifact '${context}' is not one this job receives${didYouMean(context, received)}`,
      path: [...path, 'context'],
      hint,
    });
  }
}

function names(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
