/**
 * `build_image:` of a deploy job (docs/deployments.md#building-the-image): the image a job deploys is built by the
 * Docker engine's build API from a verified artifact of a job it needs. The artifact is fetched and re-hashed
 * (nothing unverified reaches the engine), its Dockerfile is read and every base image it names must already be on
 * the engine (builds have no network and pull nothing), then the archive itself is the build context, streamed to
 * the engine with `networkmode: none`. Runs on the Docker task queue and heartbeats while the engine works.
 */
import type { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import { archiveEntries } from './artifacts/archive-read';
import type { ArtifactCompression } from './artifacts/catalog';
import { classifyArtifactError } from './artifacts/errors';
import { fetchVerified, type VerifiedContent } from './artifacts/transfer';
import { isDockerNotFound, wrapDockerError } from './docker-errors';
import { ConveyorError, toApplicationFailure } from './errors';
import { parseDigest, type ArtifactStore } from './store/store';

/** The build failed: no Dockerfile, a missing base image, or a failing instruction (reason `image_build_failed`). */
export class ImageBuildError extends ConveyorError {
  readonly retryable = false;
}

/** Input of `buildDeployImage`. */
export interface BuildDeployImageInput {
  runId: string;
  /** The deploy job (named in failures and in the image's labels). */
  job: string;
  /** The verified input artifact that is the build context. */
  context: {
    name: string;
    producer: string;
    digest: string;
    size?: number;
    compression?: ArtifactCompression;
  };
  /** The Dockerfile's path inside the artifact. */
  dockerfile: string;
  /** The tag given to the built image. */
  tag: string;
}

/** Result of `buildDeployImage`: the built image's id (`sha256:…`) and the tag now pinned to it. */
export interface BuildDeployImageResult {
  imageId: string;
  tag: string;
  /** The base images of the Dockerfile's stages, as found on the engine. */
  baseImages: string[];
}

/** What the build activity needs. */
export interface ImageBuildActivityDeps {
  docker: Docker;
  store: ArtifactStore;
  /** Scratch space for fetched artifacts (an S3 object is spooled there while it is verified). */
  spoolDir: string;
  heartbeatMs?: number;
}

/** Lines of the build's output kept for a failure's message. */
const tailLines = 12;

/** Creates the image build activity (STYLE.md 5). */
export function createImageBuildActivities(deps: ImageBuildActivityDeps) {
  const heartbeatMs = deps.heartbeatMs ?? 2000;

  async function buildDeployImage(input: BuildDeployImageInput): Promise<BuildDeployImageResult> {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), heartbeatMs);
    ctx.heartbeat();
    const artifact = input.context;
    const named = `artifact '${artifact.name}' of job '${artifact.producer}'`;
    let content: VerifiedContent | undefined;
    try {
      content = await fetchVerified(deps.store, parseDigest(artifact.digest), {
        expectedSize: artifact.size,
        spoolDir: deps.spoolDir,
        onProgress: () => ctx.heartbeat(),
        signal: ctx.cancellationSignal,
      }).catch((error: unknown) => {
        throw classifyArtifactError(error, {
          artifact: artifact.name,
          producer: artifact.producer,
          digest: artifact.digest,
        });
      });
      const compression = artifact.compression ?? 'none';
      const dockerfile = normalisePath(input.dockerfile);
      const text = await readEntry(content.open(), compression, dockerfile);
      if (text.content === undefined) {
        const holds = text.files.length === 0 ? 'no files' : listSome(text.files);
        throw new ImageBuildError(
          `build_image of job '${input.job}': ${named} has no Dockerfile at '${dockerfile}' (it holds ${holds}); ` +
            `add the Dockerfile to the artifact's paths, or set build_image.dockerfile to its path in the artifact`,
          { artifact: artifact.name, dockerfile },
        );
      }
      const baseImages = await checkBaseImages(deps.docker, baseImagesOf(text.content), input.job, dockerfile);
      const output = await runBuild(deps.docker, content.open(), input, dockerfile, {
        progress: () => ctx.heartbeat(),
        signal: ctx.cancellationSignal,
      });
      if (output.error !== undefined) {
        const tail = output.lines.slice(-tailLines).join('\n');
        throw new ImageBuildError(
          `build_image of job '${input.job}' failed: ${output.error}${tail ? `\nlast lines of the build:\n${tail}` : ''}`,
          { tag: input.tag, lines: output.lines.slice(-tailLines) },
        );
      }
      const inspected = await deps.docker
        .getImage(input.tag)
        .inspect()
        .catch((error: unknown) => {
          throw wrapDockerError(error, `inspecting the built image ${input.tag}`);
        });
      return { imageId: inspected.Id, tag: input.tag, baseImages };
    } catch (error) {
      throw toApplicationFailure(error);
    } finally {
      clearInterval(beat);
      await content?.release();
    }
  }

  return { buildDeployImage };
}

function normalisePath(file: string): string {
  return file.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function listSome(files: string[]): string {
  const shown = files.slice(0, 5).join(', ');
  return files.length > 5 ? `${shown} and ${files.length - 5} more` : shown;
}

/** The text of one file of an archive (every entry passes the extraction guard), and the files it holds. */
async function readEntry(
  source: Readable,
  compression: ArtifactCompression,
  wanted: string,
): Promise<{ content?: string; files: string[] }> {
  const files: string[] = [];
  let content: string | undefined;
  for await (const entry of archiveEntries(source, compression)) {
    if (entry.type !== 'file' || !entry.body) continue;
    const name = normalisePath(entry.path);
    files.push(name);
    if (name !== wanted) {
      entry.body.resume();
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of entry.body) chunks.push(chunk as Buffer);
    content = Buffer.concat(chunks).toString('utf8');
  }
  return { content, files };
}

/**
 * The base images of a Dockerfile's stages: each `FROM image [AS name]`, without `scratch`, earlier stages' names
 * and references that hold a build argument (those are resolved by the engine only).
 */
export function baseImagesOf(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  // Continuation lines are joined first, so a FROM split over lines is read whole.
  const lines = dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const line of lines) {
    const match = /^\s*FROM\s+(.*)$/i.exec(line);
    if (!match) continue;
    const words = match[1]!.split(/\s+/).filter((word) => word !== '' && !word.startsWith('--'));
    const image = words[0];
    if (!image) continue;
    if (words[1]?.toLowerCase() === 'as' && words[2]) stages.add(words[2].toLowerCase());
    if (image.toLowerCase() === 'scratch' || image.includes('$') || stages.has(image.toLowerCase())) continue;
    if (!images.includes(image)) images.push(image);
  }
  return images;
}

async function checkBaseImages(docker: Docker, images: string[], job: string, dockerfile: string): Promise<string[]> {
  for (const image of images) {
    try {
      await docker.getImage(image).inspect();
    } catch (error) {
      if (!isDockerNotFound(error)) throw wrapDockerError(error, `inspecting the base image ${image}`);
      throw new ImageBuildError(
        `build_image of job '${job}': base image '${image}' (FROM in ${dockerfile}) is not on this Docker engine; ` +
          `builds have no network and pull nothing: build or load it on the worker's engine first (docker build -t ${image} …), ` +
          `or change the FROM line to an image that is there`,
        { image },
      );
    }
  }
  return images;
}

interface BuildOutput {
  lines: string[];
  error?: string;
}

/** Streams the context to the engine's build API and collects its output; never pulls, no network in RUN. */
async function runBuild(
  docker: Docker,
  context: Readable,
  input: BuildDeployImageInput,
  dockerfile: string,
  watch: { progress: () => void; signal: AbortSignal },
): Promise<BuildOutput> {
  const stream = await docker
    .buildImage(context as unknown as NodeJS.ReadableStream, {
      t: input.tag,
      dockerfile,
      networkmode: 'none',
      pull: false,
      rm: true,
      forcerm: true,
      labels: {
        'conveyor.build.run': input.runId,
        'conveyor.build.job': input.job,
        'conveyor.build.context': input.context.digest,
      },
    })
    .catch((error: unknown) => {
      throw wrapDockerError(error, `starting the build of ${input.tag}`);
    });
  const lines: string[] = [];
  let error: string | undefined;
  let partial = '';
  // A cancelled activity closes the connection, and the engine stops the build.
  const abort = () =>
    (stream as unknown as { destroy(error?: Error): void }).destroy(new Error('the build was cancelled'));
  watch.signal.addEventListener('abort', abort, { once: true });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (failure: Error | null) => (failure ? reject(wrapDockerError(failure, `building ${input.tag}`)) : resolve()),
      (event: { stream?: string; error?: string; errorDetail?: { message?: string } }) => {
        watch.progress();
        if (event.stream) {
          const text = partial + event.stream;
          const parts = text.split('\n');
          partial = parts.pop() ?? '';
          for (const part of parts) if (part.trim() !== '') lines.push(part.trimEnd());
          if (lines.length > 200) lines.splice(0, lines.length - 200);
        }
        if (event.error !== undefined) error = event.errorDetail?.message ?? event.error;
      },
    );
  }).finally(() => watch.signal.removeEventListener('abort', abort));
  if (partial.trim() !== '') lines.push(partial.trimEnd());
  return error === undefined ? { lines } : { lines, error: error.trim() };
}
