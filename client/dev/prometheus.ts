/**
 * The embedded Prometheus (docs/deployments.md#metrics): Debian's `prometheus` binary with its configuration and
 * data in the data dir, on 127.0.0.1:CONVEYOR_PROMETHEUS_PORT. It discovers what to scrape from files: every
 * router writes `targets/router-<service>-<environment>.json`, every worker `targets/worker-<pid>.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConveyorConfig } from '../../workers/config';

/** Seconds between scrapes: short, so deployment analysis sees fresh figures. */
export const scrapeIntervalSeconds = 2;

/** The configuration Conveyor runs Prometheus with. */
export function prometheusConfig(targets: string): string {
  return `# Written by 'conveyor dev up' (client/dev/prometheus.ts); rewritten on every start.
global:
  scrape_interval: ${scrapeIntervalSeconds}s
  evaluation_interval: ${scrapeIntervalSeconds}s
scrape_configs:
  - job_name: conveyor-routers
    file_sd_configs:
      - files: ['${path.join(targets, 'router-*.json')}']
        refresh_interval: ${scrapeIntervalSeconds}s
  - job_name: conveyor-workers
    file_sd_configs:
      - files: ['${path.join(targets, 'worker-*.json')}']
        refresh_interval: ${scrapeIntervalSeconds}s
`;
}

/** Writes the configuration and makes the directories; returns the command-line arguments. */
export function preparePrometheus(config: ConveyorConfig): string[] {
  const { dir, targets, port } = config.prometheus;
  mkdirSync(targets, { recursive: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const file = path.join(dir, 'prometheus.yml');
  writeFileSync(file, prometheusConfig(targets));
  return [
    `--config.file=${file}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=7d',
    '--log.level=warn',
  ];
}

/** True when Prometheus answers its readiness endpoint. */
export async function prometheusAnswers(config: ConveyorConfig): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${config.prometheus.port}/-/ready`, {
    signal: AbortSignal.timeout(1000),
  });
  return response.ok;
}
