/**
 * The normalised deployment specification every workflow and activity works on: durations in seconds, defaults
 * applied, one shape per strategy. Built once from the validated `deploy:` block by {@link toDeploySpec}.
 */
import type { DeployInput } from './spec-schema';

/** How a new version replaces the old one. */
export type StrategyName = 'rolling' | 'blue_green' | 'canary';

/** Which traffic router fronts the service. */
export type RouterKind = 'builtin' | 'nginx';

/** Where users reach the service and how the router splits traffic. */
export interface RouterSpec {
  kind: RouterKind;
  /** Published on 127.0.0.1. */
  port: number;
  /** Keep each client on the version it first got (a cookie). */
  sticky: boolean;
  /** Blue-green only: the idle colour is published here for previews and smoke tests. */
  previewPort?: number;
}

/** How one instance's health is probed. */
export type HealthProbe =
  | { kind: 'http'; path: string; expectStatus: number; expectBody?: string }
  | { kind: 'tcp' }
  | { kind: 'command'; command: string[] };

/** A health check and its consecutive thresholds (DEP-071, DEP-074). */
export interface HealthCheckSpec {
  probe: HealthProbe;
  intervalSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  /** How long a starting instance may take to become healthy. */
  startTimeoutSeconds: number;
}

/** An approval gate. */
export interface GateSpec {
  name: string;
  /** User names and `group:NAME`. */
  approvers: string[];
  /** Distinct approvals needed. */
  required: number;
  timeoutSeconds: number;
  onTimeout: 'reject' | 'approve';
}

/** One metric and its conditions. */
export interface MetricSpec {
  name: string;
  /** PromQL with `{{service}}`, `{{environment}}`, `{{track}}`, `{{version}}`, `{{window}}` placeholders. */
  prometheus?: string;
  max?: number;
  min?: number;
  maxRatioToStable?: number;
}

/** An analysis: measurements of `metrics` once per interval, judged with limits. */
export interface AnalysisSpec {
  intervalSeconds: number;
  minRequests: number;
  failureLimit: number;
  inconclusiveLimit: number;
  metrics: MetricSpec[];
}

/** A canary step. */
export type CanaryStep =
  | { kind: 'set_weight'; weight: number }
  | { kind: 'pause'; seconds?: number }
  | { kind: 'analysis'; count: number; analysis: AnalysisSpec }
  | { kind: 'approval'; gate: GateSpec };

/** Canary settings. */
export interface CanarySpec {
  replicas: number;
  analysis?: AnalysisSpec;
  steps: CanaryStep[];
  drainTimeoutSeconds: number;
}

/** Rolling settings. */
export interface RollingSpec {
  batchSize: number;
  maxUnavailable: number;
  maxSurge: number;
  drainTimeoutSeconds: number;
}

/** Blue-green settings. */
export interface BlueGreenSpec {
  smoke?: { image: string; script: string[]; timeoutSeconds: number };
  approval?: GateSpec;
  monitorSeconds: number;
  scaleDownDelaySeconds: number;
  drainTimeoutSeconds: number;
  analysis?: AnalysisSpec;
}

/** A deployment, normalised. */
export interface DeploySpec {
  service: string;
  environment: string;
  /** The version's name; default the image's tag. */
  version: string;
  /** The image to run (for `build_image`, the tag the build produces). */
  image: string;
  buildImage?: { context: string; dockerfile: string; tag: string };
  /** The port the service listens on inside its container. */
  port: number;
  replicas: number;
  /** Container environment; values may hold `${secrets.NAME}`, resolved only when the container is created. */
  env: Record<string, string>;
  router: RouterSpec;
  healthCheck: HealthCheckSpec;
  strategy: StrategyName;
  /** A gate before the rollout starts. */
  approval?: GateSpec;
  rolling?: RollingSpec;
  blueGreen?: BlueGreenSpec;
  canary?: CanarySpec;
}

/** The default canary when none is written: 5, 15, 35, 65 % for 15 minutes each, then 100 % (DESIGN.md §9). */
export const defaultCanaryWeights = [5, 15, 35, 65] as const;
/** Seconds each default canary stage lasts (DEP-052). */
export const defaultStageSeconds = 15 * 60;

/** The tag of an image reference (`conveyor/web:v2` → `v2`), its short digest, or `latest`. */
export function versionOfImage(image: string): string {
  const [name = '', digest] = image.split('@');
  if (digest) return digest.replace(/^[^:]*:/, '').slice(0, 12);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > lastSlash ? name.slice(colon + 1) : 'latest';
}

function gate(input: NonNullable<DeployInput['approval']>, defaultName: string): GateSpec {
  return {
    name: input.name ?? defaultName,
    approvers: input.approvers,
    required: input.required ?? 1,
    timeoutSeconds: input.timeout ?? 86_400,
    onTimeout: input.on_timeout ?? 'reject',
  };
}

type AnalysisInput = {
  interval?: number;
  min_requests?: number;
  failure_limit?: number;
  inconclusive_limit?: number;
  metrics?: Array<{ name: string; prometheus?: string; max?: number; min?: number; max_ratio_to_stable?: number }>;
};

function analysis(input: AnalysisInput, defaults?: AnalysisSpec): AnalysisSpec {
  return {
    intervalSeconds: input.interval ?? defaults?.intervalSeconds ?? 10,
    minRequests: input.min_requests ?? defaults?.minRequests ?? 20,
    failureLimit: input.failure_limit ?? defaults?.failureLimit ?? 0,
    inconclusiveLimit: input.inconclusive_limit ?? defaults?.inconclusiveLimit ?? 3,
    metrics:
      input.metrics?.map((metric) => ({
        name: metric.name,
        prometheus: metric.prometheus,
        max: metric.max,
        min: metric.min,
        maxRatioToStable: metric.max_ratio_to_stable,
      })) ??
      defaults?.metrics ??
      [],
  };
}

/** Turns a validated `deploy:` block into a {@link DeploySpec}. */
export function toDeploySpec(input: DeployInput): DeploySpec {
  const image = input.image ?? input.build_image?.tag ?? '';
  const health = input.health_check ?? {};
  const probe: HealthProbe = health.tcp
    ? { kind: 'tcp' }
    : health.command
      ? { kind: 'command', command: health.command }
      : {
          kind: 'http',
          path: health.http?.path ?? '/',
          expectStatus: health.http?.expect_status ?? 200,
          expectBody: health.http?.expect_body,
        };
  const strategy = input.strategy ?? 'rolling';
  const spec: DeploySpec = {
    service: input.service,
    environment: input.environment ?? 'production',
    version: input.version ?? versionOfImage(image),
    image,
    port: input.port,
    replicas: input.replicas ?? 1,
    env: Object.fromEntries(Object.entries(input.env ?? {}).map(([key, value]) => [key, String(value)])),
    router: {
      kind: input.router.kind ?? 'builtin',
      port: input.router.port,
      sticky: input.router.sticky ?? false,
      previewPort: input.blue_green?.preview_port,
    },
    healthCheck: {
      probe,
      intervalSeconds: health.interval ?? 10,
      timeoutSeconds: health.timeout ?? 5,
      successThreshold: health.success_threshold ?? 3,
      failureThreshold: health.failure_threshold ?? 2,
      startTimeoutSeconds: health.start_timeout ?? 300,
    },
    strategy,
  };
  if (input.build_image) {
    spec.buildImage = {
      context: input.build_image.context,
      dockerfile: input.build_image.dockerfile ?? 'Dockerfile',
      tag: input.build_image.tag,
    };
  }
  if (input.approval) spec.approval = gate(input.approval, 'before-deploy');
  if (strategy === 'rolling') {
    const rolling = input.rolling ?? {};
    spec.rolling = {
      batchSize: rolling.batch_size ?? 1,
      maxUnavailable: rolling.max_unavailable ?? 0,
      maxSurge: rolling.max_surge ?? 1,
      drainTimeoutSeconds: rolling.drain_timeout ?? 120,
    };
  } else if (strategy === 'blue_green') {
    const blueGreen = input.blue_green ?? {};
    spec.blueGreen = {
      smoke: blueGreen.smoke && {
        image: blueGreen.smoke.image,
        script: blueGreen.smoke.script,
        timeoutSeconds: blueGreen.smoke.timeout ?? 300,
      },
      approval: blueGreen.approval && gate(blueGreen.approval, 'switch'),
      monitorSeconds: blueGreen.monitor ?? 0,
      scaleDownDelaySeconds: blueGreen.scale_down_delay ?? 30,
      drainTimeoutSeconds: blueGreen.drain_timeout ?? 120,
      analysis: blueGreen.analysis && analysis(blueGreen.analysis),
    };
  } else {
    const canary = input.canary ?? {};
    const background = canary.analysis && analysis(canary.analysis);
    const steps: CanaryStep[] = canary.steps
      ? canary.steps.map((step, index): CanaryStep => {
          if (step.set_weight !== undefined) return { kind: 'set_weight', weight: step.set_weight };
          if (step.analysis !== undefined) {
            return { kind: 'analysis', count: step.analysis.count ?? 1, analysis: analysis(step.analysis, background) };
          }
          if (step.approval !== undefined) return { kind: 'approval', gate: gate(step.approval, `step-${index + 1}`) };
          const pause = step.pause;
          return typeof pause === 'number' ? { kind: 'pause', seconds: pause } : { kind: 'pause' };
        })
      : defaultCanaryWeights.flatMap((weight): CanaryStep[] => [
          { kind: 'set_weight', weight },
          { kind: 'pause', seconds: defaultStageSeconds },
        ]);
    spec.canary = {
      replicas: canary.replicas ?? 1,
      analysis: background,
      steps,
      drainTimeoutSeconds: canary.drain_timeout ?? 120,
    };
  }
  return spec;
}
