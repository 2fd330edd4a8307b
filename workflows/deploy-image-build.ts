/**
 * A deploy job's `build_image:` (docs/deployments.md#building-the-image): before the rollout is requested, the
 * image is built on the Docker task queue from a verified input artifact, and the rollout deploys exactly that image
 * — by id, so a later build under the same tag changes nothing that was rolled out. The job records the id.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
} from '@temporalio/workflow';
import type { createImageBuildActivities } from '../activities/image-build';
import type { DeploySpec } from '../deploy/spec';
import { dockerQueue, noRunnerFailure, queueTimeout } from './activity-proxies';
import { describeArtifactFailure, type ArtifactHookInput } from './job-artifacts';
import type { JobState } from './pipeline-run-messages';

/** Runs recorded before deploy jobs built their images replay without the build (STYLE.md 11). */
const buildsImagePatch = 'deploy-builds-image';

function buildActivities(input: ArtifactHookInput) {
  return proxyActivities<ReturnType<typeof createImageBuildActivities>>({
    taskQueue: dockerQueue(input.job),
    scheduleToStartTimeout: queueTimeout(input.job),
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: `${input.options?.heartbeatTimeoutSeconds ?? 20} seconds`,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // A failing build is not retried (ImageBuildError is non-retryable); an engine or store outage is.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6 },
  });
}

/**
 * Builds the deploy job's image when it has `build_image`, and returns the spec to roll out (its `image` the built
 * id); `undefined` when the build failed, the job then `failed` with the reason and message. Without `build_image`
 * the spec is returned as it is, with no command recorded.
 */
export async function buildDeployImage(
  input: ArtifactHookInput,
  spec: DeploySpec,
  state: JobState,
): Promise<DeploySpec | undefined> {
  const build = spec.buildImage;
  if (!build || !patched(buildsImagePatch)) return spec;
  const inputs = input.artifacts?.inputs ?? [];
  const artifact = inputs.find((candidate) => candidate.name === build.context);
  if (!artifact) {
    const received = inputs.map((candidate) => `'${candidate.name}' of ${candidate.producer}`).join(', ');
    Object.assign(state, {
      status: 'failed',
      reason: 'artifact_missing',
      message:
        `build_image.context names artifact '${build.context}', which this job did not receive ` +
        `(${received ? `it received ${received}` : 'it received no artifacts'}); store it in a job this one needs ` +
        `(artifacts: {${build.context}: …}), or name one it receives`,
    });
    return undefined;
  }
  try {
    const context = { name: artifact.name, producer: artifact.producer, digest: artifact.digest };
    const built = await buildActivities(input).buildDeployImage.executeWithOptions(
      { summary: `${input.job.name} / build ${build.tag} from ${artifact.name}` },
      [
        {
          runId: input.runId,
          job: input.job.name,
          context: { ...context, size: artifact.size, compression: artifact.compression },
          dockerfile: build.dockerfile,
          tag: build.tag,
        },
      ],
    );
    state.deployment!.image = { id: built.imageId, tag: built.tag, context };
    return { ...spec, image: built.imageId };
  } catch (error) {
    if (isCancellation(error)) state.status = 'cancelled';
    if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
    const cause = error.cause;
    const failure =
      noRunnerFailure(error, input.job) ??
      (cause instanceof ApplicationFailure && cause.type === 'ImageBuildError'
        ? { reason: 'image_build_failed' as const, message: cause.message }
        : describeArtifactFailure(error));
    Object.assign(state, { status: 'failed', ...failure });
    return undefined;
  }
}
