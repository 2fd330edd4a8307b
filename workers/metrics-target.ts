/**
 * The worker's own metrics (Temporal's SDK metrics: workflow and activity task latencies, slots, polls) on a
 * Prometheus endpoint on 127.0.0.1, announced to the embedded Prometheus as a file_sd target
 * (`<dataDir>/prometheus/targets/worker-<pid>.json`, docs/deployments.md#metrics).
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A port nothing listens on now, from the kernel. */
export async function freeLocalPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Writes this worker's target file (removing those of workers that are gone); returns how to remove it. */
export function announceWorkerMetrics(targets: string, port: number): () => void {
  mkdirSync(targets, { recursive: true });
  for (const file of readdirSync(targets)) {
    const pid = /^worker-(\d+)\.json$/.exec(file)?.[1];
    if (pid && !alive(Number(pid))) rmSync(path.join(targets, file), { force: true });
  }
  const file = path.join(targets, `worker-${process.pid}.json`);
  writeFileSync(
    `${file}.tmp`,
    JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { pid: String(process.pid) } }]),
  );
  renameSync(`${file}.tmp`, file);
  return () => rmSync(file, { force: true });
}
