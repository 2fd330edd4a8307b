/**
 * The nginx router's agent (docs/deployments.md#the-nginx-router), running beside Debian's nginx in the
 * `conveyor/nginx` container, as an ingress controller runs beside its proxy: nginx carries every request; the
 * agent renders each new table into a configuration, checks it with `nginx -t` before it replaces the live one (a
 * bad configuration never goes live), reloads nginx gracefully (old workers finish their requests), confirms the
 * new generation answers, and turns the access log into per-version samples and metrics.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { renderNginxConfig, nginxAccessLog, type NginxPorts } from '../deploy/nginx-config';
import { emptyRouteTable, type RouteTable } from '../deploy/route-table';
import type { RouterEngine } from './admin';
import { trackNames, type Sample, type SampleTrack } from './samples';

const liveConfig = '/etc/nginx/conveyor.conf';
const nextConfig = '/etc/nginx/conveyor.next.conf';
/** Past this size the access log is cut back to empty (nginx appends, so it simply continues at the start). */
const maxLogBytes = 32 * 1024 * 1024;

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

function getText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // A fresh connection each time: a kept-alive one would reach an old worker that still serves the old config.
    const request = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 1000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    });
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', reject);
  });
}

/** The nginx router's engine. */
export class NginxRouter implements RouterEngine {
  private table: RouteTable;
  private generation: number;
  private nginx?: ChildProcess;
  /** Backends by address across recent tables, so requests finishing on an old worker are still attributed. */
  private readonly known = new Map<string, { name: string; version: string }>();
  private logOffset = 0;
  private pending = '';

  constructor(
    private readonly ports: NginxPorts,
    private readonly drainSeconds: number,
    private readonly record: (sample: Sample) => void,
    initial: { table: RouteTable; generation: number } = { table: emptyRouteTable, generation: 0 },
  ) {
    this.table = initial.table;
    this.generation = initial.generation;
    this.remember(initial.table);
  }

  /** Writes the configuration of the current table and runs nginx in the foreground; the agent dies with it. */
  start(): void {
    writeFileSync(liveConfig, renderNginxConfig(this.table, this.generation, this.ports, this.drainSeconds));
    writeFileSync(nginxAccessLog, '');
    this.nginx = spawn('nginx', ['-c', liveConfig, '-g', 'daemon off;'], { stdio: 'inherit' });
    this.nginx.once('exit', (code) => {
      console.error(`nginx exited (${code}); the router stops so that Docker restarts it`);
      process.exit(1);
    });
    setInterval(() => this.readLog(), 100).unref();
  }

  async apply(table: RouteTable): Promise<number> {
    const generation = this.generation + 1;
    writeFileSync(nextConfig, renderNginxConfig(table, generation, this.ports, this.drainSeconds));
    const check = await run('nginx', ['-t', '-q', '-c', nextConfig]);
    if (check.code !== 0)
      throw new Error(`nginx -t refused the new configuration (the live one is unchanged): ${check.output}`);
    this.remember(table);
    renameSync(nextConfig, liveConfig);
    this.nginx?.kill('SIGHUP');
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const served = await getText(this.ports.control, '/generation').catch(() => '');
      if (served.trim() === String(generation)) {
        this.table = table;
        this.generation = generation;
        return generation;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`nginx did not serve generation ${generation} within 15 s of the reload`);
  }

  current() {
    return { table: this.table, generation: this.generation };
  }

  /** nginx keeps no per-backend count; old worker processes still finishing requests are reported as `draining`. */
  inflight(): Record<string, number> {
    let draining = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('worker process is shutting down')) draining += 1;
      } catch {
        // the process ended while we looked
      }
    }
    return draining > 0 ? { draining } : {};
  }

  private remember(table: RouteTable): void {
    for (const backend of [...table.stable.backends, ...table.canary.backends, ...table.preview]) {
      this.known.set(backend.address, { name: backend.name, version: backend.version });
    }
    if (this.known.size > 1000) this.known.clear();
  }

  /** Reads what nginx appended to the access log since last time. */
  private readLog(): void {
    if (!existsSync(nginxAccessLog)) return;
    const size = statSync(nginxAccessLog).size;
    if (size < this.logOffset) this.logOffset = 0;
    if (size === this.logOffset) return;
    const fd = openSync(nginxAccessLog, 'r');
    try {
      const buffer = Buffer.alloc(size - this.logOffset);
      const read = readSync(fd, buffer, 0, buffer.length, this.logOffset);
      this.logOffset += read;
      const lines = (this.pending + buffer.subarray(0, read).toString('utf8')).split('\n');
      this.pending = lines.pop() ?? '';
      for (const line of lines) if (line) this.parse(line);
    } finally {
      closeSync(fd);
    }
    if (this.logOffset > maxLogBytes && this.pending === '') {
      truncateSync(nginxAccessLog, 0);
      this.logOffset = 0;
    }
  }

  private parse(line: string): void {
    let entry: { t: number; track: string; upstream: string; status: number; rt: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    // After a retry nginx lists every upstream tried: the last one answered.
    const address = entry.upstream.split(',').pop()?.trim() ?? '';
    const backend = this.known.get(address);
    const track = (trackNames as readonly string[]).includes(entry.track) ? (entry.track as SampleTrack) : 'none';
    this.record({
      t: entry.t * 1000,
      track: backend ? track : 'none',
      version: backend?.version ?? '',
      backend: backend?.name ?? '',
      status: entry.status,
      latencyMs: entry.rt * 1000,
    });
  }
}
