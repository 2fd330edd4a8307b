/**
 * The embedded stack behind `conveyor dev up | down | status` (DESIGN.md §10): the Temporal dev server with a
 * SQLite file in the data dir (runs survive restarts) and the Web UI, MinIO with its data in the data dir and
 * Conveyor's bucket, and the worker. `up` reuses what already runs and names whatever else holds a port.
 */
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createS3Client, ensureBucket } from '../../activities/s3';
import type { ConveyorConfig } from '../../workers/config';
import { conveyorSearchAttributes } from '../../workflows/search-attributes';
import { describePollers, pollsEveryQueue } from '../task-queue-pollers';
import { preparePrometheus, prometheusAnswers } from './prometheus';
import {
  describePortOwner,
  findTool,
  isSameLiveProcess,
  portAnswers,
  runningService,
  ServiceExitedError,
  serviceFiles,
  startDetached,
  stopService,
  waitFor,
  type ServiceRecord,
  type ServiceSpec,
} from './processes';
import { apiAddress, apiServiceSpec } from './api-service';
import { ensureDockerEngine } from './docker-engine';

/** The stack's services, in start order (stopped in reverse). */
export const serviceNames = ['temporal', 'minio', 'prometheus', 'worker', 'api'] as const;
export type ServiceName = (typeof serviceNames)[number];

/** A service's state as `dev status` reports it. */
export interface ServiceStatus {
  name: ServiceName;
  pid?: number;
  /** Whether its process runs and answers: its port, or for the worker, polls of both task queues. */
  up: boolean;
  address: string;
  log: string;
}

function hostPort(address: string): { host: string; port: number } {
  const [host, port] = address.split(':');
  return { host: host || '127.0.0.1', port: Number(port) };
}

function specs(config: ConveyorConfig): Record<ServiceName, ServiceSpec> {
  const temporal = hostPort(config.temporal.address);
  const { s3 } = config;
  const node = process.execPath;
  return {
    temporal: {
      name: 'temporal',
      command: findTool('temporal', config.cacheDir),
      args: [
        'server',
        'start-dev',
        '--db-filename',
        path.join(config.dataDir, 'temporal.db'),
        '--ip',
        temporal.host,
        '--port',
        String(temporal.port),
        '--ui-port',
        String(config.temporal.uiPort),
        '--namespace',
        config.temporal.namespace,
        '--log-level',
        'warn',
        ...conveyorSearchAttributes.flatMap((attribute) => [
          '--search-attribute',
          `${attribute.name}=${attribute.type}`,
        ]),
      ],
      ports: [temporal, { host: temporal.host, port: config.temporal.uiPort }],
      ready: async () => {
        await waitFor('the Temporal dev server', () => temporalAnswers(config), 60_000);
        // A server started by an older Conveyor lacks attributes added since: register what is missing.
        await ensureSearchAttributes(config);
      },
    },
    minio: {
      name: 'minio',
      command: findTool('minio', config.cacheDir),
      args: [
        'server',
        path.join(config.dataDir, 'minio'),
        '--address',
        `${s3.endPoint}:${s3.port}`,
        '--console-address',
        `${s3.endPoint}:${s3.consolePort}`,
        '--quiet',
      ],
      env: { MINIO_ROOT_USER: s3.accessKey, MINIO_ROOT_PASSWORD: s3.secretKey, MINIO_BROWSER: 'on' },
      ports: [
        { host: s3.endPoint, port: s3.port },
        { host: s3.endPoint, port: s3.consolePort },
      ],
      ready: async () => {
        await waitFor('MinIO', () => minioAnswers(config), 60_000);
        await ensureBucket(createS3Client(s3), s3.bucket);
      },
    },
    prometheus: {
      name: 'prometheus',
      command: findTool('prometheus', config.cacheDir),
      // A getter: the configuration is written when the service starts, not whenever the stack is described.
      get args() {
        return preparePrometheus(config);
      },
      ports: [{ host: '127.0.0.1', port: config.prometheus.port }],
      ready: () => waitFor('Prometheus', () => prometheusAnswers(config), 60_000),
    },
    worker: {
      name: 'worker',
      command: node,
      // The compiled worker (scripts/build keeps dist/ fresh; bin/conveyor builds it before `dev up` runs).
      args: [path.join(config.projectRoot, 'dist/workers/main.js')],
      ports: [],
      ready: (record) => waitFor('the worker', () => workerPolls(config, record), 120_000),
    },
    api: apiServiceSpec(config),
  };
}

/** Starts whatever part of the stack is not running; returns what it did per service. */
export async function stackUp(
  config: ConveyorConfig,
  report: (line: string) => void,
): Promise<Record<ServiceName, 'started' | 'reused'>> {
  const all = specs(config);
  // Before anything starts: without an engine the worker would start and then fail on its first step.
  await ensureDockerEngine();
  const outcome = {} as Record<ServiceName, 'started' | 'reused'>;
  for (const name of serviceNames) {
    const spec = all[name];
    const running = runningService(config.dataDir, name);
    if (running) {
      // Reported only once verified: the process is the one started, and it answers (the worker: it polls).
      await spec.ready(running);
      outcome[name] = 'reused';
      report(`${name}: already running (pid ${running.pid})`);
      continue;
    }
    for (const { host, port } of spec.ports) {
      if (await portAnswers(host, port)) {
        throw new Error(
          `${name} cannot start: port ${port} is taken by ${describePortOwner(port)}; stop it, or move Conveyor ` +
            `with the environment variables in README.md (e.g. TEMPORAL_ADDRESS, CONVEYOR_S3_PORT)`,
        );
      }
    }
    const started = Date.now();
    const record = startDetached(config.dataDir, spec);
    try {
      await spec.ready(record);
    } catch (error) {
      const log = serviceFiles(config.dataDir, name).log;
      await stopService(config.dataDir, name, 2000);
      throw new Error(`${(error as Error).message}; see ${log}:\n${tailOf(log, 15)}`, { cause: error });
    }
    outcome[name] = 'started';
    report(`${name}: started (pid ${record.pid}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  return outcome;
}

/** Stops the stack's services (worker first, so no run is mid-step when the server goes). */
export async function stackDown(config: ConveyorConfig, report: (line: string) => void): Promise<void> {
  for (const name of [...serviceNames].reverse()) {
    // The worker drains on SIGTERM (docs/runs.md, "Stopping a worker"): it gets its grace, and time to report, before
    // SIGKILL.
    const graceMs = name === 'worker' ? (config.worker.shutdownGraceSeconds + 15) * 1000 : undefined;
    const stopped = await stopService(config.dataDir, name, graceMs);
    report(`${name}: ${stopped ? 'stopped' : 'not running'}`);
  }
}

/** Reports each service's process and whether it answers. */
export async function stackStatus(config: ConveyorConfig): Promise<ServiceStatus[]> {
  const temporal = hostPort(config.temporal.address);
  const addresses: Record<ServiceName, { host: string; port: number } | undefined> = {
    temporal,
    minio: { host: config.s3.endPoint, port: config.s3.port },
    prometheus: { host: '127.0.0.1', port: config.prometheus.port },
    worker: undefined,
    api: apiAddress(config),
  };
  const result: ServiceStatus[] = [];
  for (const name of serviceNames) {
    const running = runningService(config.dataDir, name);
    const address = addresses[name];
    const answers = address
      ? await portAnswers(address.host, address.port)
      : running !== undefined && (await workerPolls(config, running).catch(() => false));
    result.push({
      name,
      pid: running?.pid,
      up: answers && running !== undefined,
      address: address
        ? `${address.host}:${address.port}`
        : `task queues ${config.taskQueues.workflows}, ${config.taskQueues.docker}`,
      log: serviceFiles(config.dataDir, name).log,
    });
  }
  return result;
}

async function temporalAnswers(config: ConveyorConfig): Promise<boolean> {
  const connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

/** Registers every Conveyor search attribute the server does not have yet (idempotent). */
async function ensureSearchAttributes(config: ConveyorConfig): Promise<void> {
  const connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: 3000 });
  try {
    const { namespace } = config.temporal;
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const known = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = conveyorSearchAttributes.filter((attribute) => !known.has(attribute.name));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((attribute) => [attribute.name, indexedValueTypes[attribute.type]]),
      ),
    });
  } finally {
    await connection.close();
  }
}

/** Temporal's enum values for the search attribute types Conveyor uses. */
const indexedValueTypes = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
} as const;

async function minioAnswers(config: ConveyorConfig): Promise<boolean> {
  const scheme = config.s3.useSSL ? 'https' : 'http';
  const response = await fetch(`${scheme}://${config.s3.endPoint}:${config.s3.port}/minio/health/live`);
  return response.ok;
}

/**
 * Whether the worker process `record` describes polls both task queues (its Temporal identity is `pid@host`).
 * Throws when the process has exited, so a worker that crashes at start fails `dev up` at once.
 */
async function workerPolls(config: ConveyorConfig, record: ServiceRecord): Promise<boolean> {
  if (!isSameLiveProcess(record)) throw new ServiceExitedError('the worker exited');
  const connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: 1000 });
  try {
    const queues = await describePollers(connection, config.temporal.namespace, config.taskQueues);
    return pollsEveryQueue(queues, record.pid, Date.now());
  } finally {
    await connection.close();
  }
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
