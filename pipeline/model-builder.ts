import { toDeploySpec } from '../deploy/spec';
import { normaliseWorkingDirectory } from './artifact-path';
import type { JobDeclaration, JobInstance } from './job-expansion';
import { parseMemorySize } from './memory-size';
import { defaultPool } from './runner-pool';
import type { ArtifactModel, CheckoutModel, JobModel, PipelineModel, StepModel } from './model';
import { escapeTemplateText } from './variable-template';
import { normaliseRetentionPolicy } from './retention-policy';
import { limits, type JobInput, type PipelineHeaderInput, type StepInput } from './schema';

/** Inputs for building the model once every check has passed. */
export interface ModelInput {
  header: PipelineHeaderInput;
  declarations: readonly JobDeclaration[];
  runtime: Readonly<Record<string, string>>;
  defaultImage: string;
}

/** Builds the validated model: defaults applied, matrix expansions in place, dependencies on expanded names. */
export function buildPipelineModel({ header, declarations, runtime, defaultImage }: ModelInput): PipelineModel {
  const expandedNames = new Map(
    declarations.map((declaration) => [declaration.name, declaration.instances.map((instance) => instance.name)]),
  );
  const jobs: JobModel[] = [];
  for (const declaration of declarations) {
    const dependsOn = [
      ...new Set(declaration.dependencies.flatMap((dependency) => expandedNames.get(dependency.name) ?? [])),
    ];
    for (const instance of declaration.instances) {
      jobs.push(buildJob(declaration, instance, dependsOn, { header, runtime, defaultImage, expandedNames }));
    }
  }
  const pipeline: PipelineModel = {
    name: header.name,
    timeoutSeconds: header.timeout ?? limits.pipelineTimeout.default,
    globalEnv: withRuntimeOverrides(header.global_env ?? {}, runtime),
    jobs,
    variables: { ...runtime },
  };
  if (header.concurrency?.max_parallel !== undefined) pipeline.maxParallel = header.concurrency.max_parallel;
  if (header.concurrency?.group !== undefined) {
    pipeline.concurrency = {
      group: header.concurrency.group,
      cancelInProgress: header.concurrency.cancel_in_progress ?? false,
    };
  }
  if (header.triggers) pipeline.triggers = header.triggers;
  if (typeof header.checkout === 'object' && header.checkout.submodules) pipeline.submodules = true;
  if (header.deploy) pipeline.deploy = header.deploy;
  if (header.artifacts?.retention)
    pipeline.artifactRetention = header.artifacts.retention.map(normaliseRetentionPolicy);
  return pipeline;
}

function buildJob(
  declaration: JobDeclaration,
  instance: JobInstance,
  dependsOn: string[],
  context: {
    header: PipelineHeaderInput;
    runtime: Readonly<Record<string, string>>;
    defaultImage: string;
    expandedNames: ReadonlyMap<string, string[]>;
  },
): JobModel {
  const { expandedNames } = context;
  const input: JobInput = instance.input;
  const job: JobModel = {
    name: instance.name,
    baseName: declaration.name,
    dependsOn,
    environment: withRuntimeOverrides(input.environment ?? {}, context.runtime),
    timeoutSeconds: input.timeout ?? limits.jobTimeout.default,
    retryCount: input.retry_count ?? limits.jobRetryCount.default,
    resources: {
      memoryBytes:
        input.resources?.memory === undefined
          ? limits.memoryBytes.default
          : (parseMemorySize(input.resources.memory) ?? limits.memoryBytes.default),
      cpus: input.resources?.cpus ?? limits.cpus.default,
      ...(input.resources?.disk === undefined ? {} : { diskBytes: parseMemorySize(input.resources.disk) }),
    },
    network: input.network ?? 'isolated',
    artifacts: Object.entries(input.artifacts ?? {}).map(([name, artifact]): ArtifactModel => {
      const when = context.header.artifacts?.when ?? 'on_success';
      if (typeof artifact === 'string') return { name, paths: [artifact], when };
      if (Array.isArray(artifact)) return { name, paths: [...artifact], when };
      const model: ArtifactModel = {
        name,
        paths: typeof artifact.paths === 'string' ? [artifact.paths] : [...artifact.paths],
        when: artifact.when ?? when,
      };
      if (artifact.optional) model.optional = true;
      return model;
    }),
    steps: (input.steps ?? []).map((step) =>
      buildStep(step, input.image ?? context.defaultImage, context, input.pull_policy),
    ),
  };
  if (instance.condition !== undefined) job.if = instance.condition;
  if (instance.matrix) job.matrix = { ...instance.matrix };
  if (declaration.strategy) job.strategy = { ...declaration.strategy };
  if (input.deploy) job.deploy = toDeploySpec(input.deploy);
  const checkout = jobCheckout(context.header.checkout, input.checkout);
  if (checkout !== undefined) job.checkout = checkout;
  const pool = input.runs_on ?? context.header.runs_on;
  if (pool !== undefined && pool !== defaultPool) job.pool = pool;
  const queueTimeout = input.queue_timeout ?? context.header.queue_timeout;
  if (queueTimeout !== undefined) job.queueTimeoutSeconds = queueTimeout;
  if (input.artifacts_from) {
    // Named as written; a matrix job stands for all its expansions, like in needs.
    job.artifactsFrom = [...new Set(input.artifacts_from.flatMap((name) => expandedNames.get(name) ?? []))];
  }
  return job;
}

/** A job's checkout: its own setting over the pipeline's defaults; `undefined` is the plain default. */
function jobCheckout(
  defaults: PipelineHeaderInput['checkout'],
  own: JobInput['checkout'],
): CheckoutModel | false | undefined {
  if (own === false || (own === undefined && defaults === false)) return false;
  const base = typeof defaults === 'object' ? defaults : {};
  const mine = typeof own === 'object' ? own : {};
  const path = mine.path ?? base.path;
  const depth = mine.depth ?? base.depth;
  if (path === undefined && depth === undefined) return undefined;
  const checkout: CheckoutModel = { path: (path ?? '').replace(/^\.\/+/, '').replace(/\/+$/, '') };
  if (depth !== undefined) checkout.depth = depth;
  return checkout;
}

function buildStep(
  step: StepInput,
  image: string,
  context: { header: PipelineHeaderInput; runtime: Readonly<Record<string, string>> },
  jobPullPolicy?: StepModel['pullPolicy'],
): StepModel {
  const directory = normaliseWorkingDirectory(step.working_directory ?? limits.workingDirectory);
  const pullPolicy = step.pull_policy ?? jobPullPolicy;
  return {
    name: step.name,
    script: step.script,
    image: step.image ?? image,
    ...(pullPolicy && pullPolicy !== 'if_not_present' ? { pullPolicy } : {}),
    environment: withRuntimeOverrides(step.environment ?? {}, context.runtime),
    workingDirectory: 'path' in directory ? directory.path : limits.workingDirectory,
    timeoutSeconds: step.timeout ?? limits.stepTimeout.default,
    retryCount: step.retry_count ?? context.header.retry_policy?.retry_count ?? limits.stepRetryCount.default,
    retryOn: [...(step.retry_on ?? context.header.retry_policy?.retry_on ?? [])],
    continueOnFailure: step.continue_on_failure ?? false,
  };
}

// A `--var` has the highest precedence: it also wins over an environment entry of the same name, so that the
// container sees the same value as `${NAME}` substitution did.
function withRuntimeOverrides(
  environment: Record<string, string>,
  runtime: Readonly<Record<string, string>>,
): Record<string, string> {
  const result: Record<string, string> = { ...environment };
  for (const name of Object.keys(result)) {
    if (Object.prototype.hasOwnProperty.call(runtime, name)) result[name] = escapeTemplateText(runtime[name] ?? '');
  }
  return result;
}
