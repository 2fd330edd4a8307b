/**
 * Conveyor's runtime configuration, read once from the environment at the edge.
 *
 * Every value has an embedded default that matches `conveyor dev up`; a platform team points the same code at a
 * Temporal cluster and an S3 store by setting the variables below.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { findConfigFile, readConfigFile, type ConfigFile } from '../config/config-file';
import { projectRoot } from '../config/project-root';
import { resolveTemporalSettings, type TemporalSettings } from '../config/temporal-connection';
import { shutdownGraceSchema, workerCapacity, type WorkerCapacity } from './capacity';

const portSchema = z.coerce.number().int().min(1).max(65535);

const envSchema = z.object({
  CONVEYOR_DATA_DIR: z.string().default(path.join(projectRoot, '.conveyor')),
  CONVEYOR_CACHE_DIR: z.string().optional(),
  CONVEYOR_TEMPORAL_UI_PORT: portSchema.default(8233),
  CONVEYOR_S3_ENDPOINT: z.string().default('127.0.0.1'),
  CONVEYOR_S3_PORT: portSchema.default(9000),
  CONVEYOR_S3_CONSOLE_PORT: portSchema.default(9001),
  CONVEYOR_S3_USE_SSL: z.enum(['true', 'false']).default('false'),
  CONVEYOR_S3_ACCESS_KEY: z.string().default('conveyor'),
  CONVEYOR_S3_SECRET_KEY: z.string().default('conveyor-secret'),
  CONVEYOR_S3_BUCKET: z.string().default('conveyor'),
  CONVEYOR_DEFAULT_IMAGE: z.string().default('ubuntu:20.04'),
  CONVEYOR_PROMETHEUS_PORT: portSchema.default(9090),
  CONVEYOR_PROMETHEUS_URL: z.string().optional(),
  CONVEYOR_STORE: z.enum(['s3', 'fs'], { error: "expected 's3' or 'fs'" }).default('s3'),
  CONVEYOR_STORE_DIR: z.string().optional(),
  CONVEYOR_TASK_QUEUE: z.string().min(1).default('conveyor'),
  CONVEYOR_API_HOST: z.string().default('127.0.0.1'),
  CONVEYOR_API_PORT: portSchema.default(8080),
  CONVEYOR_POOLS: z.string().optional(),
  CONVEYOR_MAX_CONCURRENT_STEPS: z.coerce.number().int().min(1).max(10_000).optional(),
  CONVEYOR_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).optional(),
  CONVEYOR_WORKER_SHUTDOWN_GRACE: shutdownGraceSchema.optional(),
  CONVEYOR_ENGINE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .max(100)
    .optional(),
});

/** The resolved configuration of one Conveyor process. */
export interface ConveyorConfig {
  projectRoot: string;
  /** Where the embedded stack keeps logs, the Temporal database, MinIO objects and run logs. */
  dataDir: string;
  /** Where slow-to-build tools live, outside the repository. */
  cacheDir: string;
  /** The cluster, and TLS and API key settings for a production one (config/temporal-connection.ts). */
  temporal: TemporalSettings & { uiPort: number };
  s3: {
    endPoint: string;
    port: number;
    consolePort: number;
    useSSL: boolean;
    accessKey: string;
    secretKey: string;
    bucket: string;
  };
  /** Image used by steps that name none (DESIGN.md §4). */
  defaultImage: string;
  /**
   * Prometheus: the embedded one listens on 127.0.0.1:`port` with its data and file_sd `targets` in the data dir;
   * `url` is where analysis queries go (CONVEYOR_PROMETHEUS_URL, default the embedded one).
   */
  prometheus: { port: number; url: string; dir: string; targets: string };
  /**
   * Where artifacts and (with `s3`) step logs are kept (docs/artifacts.md): the S3 bucket above — the default, which
   * the embedded stack's MinIO provides — or, with `CONVEYOR_STORE=fs`, a directory (`CONVEYOR_STORE_DIR`, default
   * `<dataDir>/store`) for single-host installs.
   */
  store: { kind: 's3' | 'fs'; dir: string };
  taskQueues: { workflows: string; docker: string };
  /** Where `conveyor serve` listens (loopback unless `CONVEYOR_API_HOST` says otherwise). */
  api: { host: string; port: number };
  /** What this worker serves and how much at once (docs/operations.md, "Runner pools" and "Capacity"). */
  worker: WorkerCapacity;
  /** Where `conveyor.config.yml` was found, if anywhere. */
  configFile?: string;
  /** Its validated contents (defaults when there is no file). */
  file: ConfigFile;
}

/** Reads the configuration from `env` (default: `process.env`), throwing a readable error on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConveyorConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid Conveyor environment: ${problems}`);
  }
  const e = parsed.data;
  const xdgCache = env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache');
  const dataDir = path.resolve(e.CONVEYOR_DATA_DIR);
  const configFile = findConfigFile(env, dataDir, projectRoot);
  const file = readConfigFile(configFile);
  return {
    projectRoot,
    dataDir,
    cacheDir: path.resolve(e.CONVEYOR_CACHE_DIR ?? path.join(xdgCache, 'conveyor')),
    temporal: { ...resolveTemporalSettings(env, file.temporal, configFile), uiPort: e.CONVEYOR_TEMPORAL_UI_PORT },
    s3: {
      endPoint: e.CONVEYOR_S3_ENDPOINT,
      port: e.CONVEYOR_S3_PORT,
      consolePort: e.CONVEYOR_S3_CONSOLE_PORT,
      useSSL: e.CONVEYOR_S3_USE_SSL === 'true',
      accessKey: e.CONVEYOR_S3_ACCESS_KEY,
      secretKey: e.CONVEYOR_S3_SECRET_KEY,
      bucket: e.CONVEYOR_S3_BUCKET,
    },
    defaultImage: e.CONVEYOR_DEFAULT_IMAGE,
    prometheus: {
      port: e.CONVEYOR_PROMETHEUS_PORT,
      url: e.CONVEYOR_PROMETHEUS_URL ?? `http://127.0.0.1:${e.CONVEYOR_PROMETHEUS_PORT}`,
      dir: path.join(dataDir, 'prometheus'),
      targets: path.join(dataDir, 'prometheus', 'targets'),
    },
    store: { kind: e.CONVEYOR_STORE, dir: path.resolve(e.CONVEYOR_STORE_DIR ?? path.join(dataDir, 'store')) },
    taskQueues: { workflows: e.CONVEYOR_TASK_QUEUE, docker: `${e.CONVEYOR_TASK_QUEUE}-docker` },
    api: { host: e.CONVEYOR_API_HOST, port: e.CONVEYOR_API_PORT },
    worker: workerCapacity(e),
    configFile,
    file,
  };
}

/** The Temporal UI address of one workflow execution. */
export function temporalUiUrl(config: ConveyorConfig, workflowId: string, runId?: string): string {
  const base = `http://localhost:${config.temporal.uiPort}/namespaces/${encodeURIComponent(config.temporal.namespace)}`;
  return `${base}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}
