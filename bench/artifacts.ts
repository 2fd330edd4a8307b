/**
 * Artifact transfer speed and memory (docs/benchmarks.md#artifacts, docs/artifacts.md): a round trip — pack a
 * directory into the store (deterministic tar, SHA-256 while streaming, verified publish), then fetch it verified and
 * extract it into an empty directory — for 1 × 1 GiB and 10,000 × 4 KiB files, on the `fs` store and on the stack's
 * MinIO. Baselines measured in the same run on the same files: `cp -r` (for fs), and the raw `minio` client putting
 * and getting the same bytes (for MinIO: the 1 GiB file as one object; the small files one object each, 32 at a
 * time). The round trips run in a separate worker process (bench/artifacts-worker.ts), whose RSS growth is reported:
 * the worker's, not this process's. Prints medians of several runs, ratios and the targets; asserts nothing.
 * Removes its files, its bucket and its worker however it ends (also on Ctrl-C).
 *
 *   npx tsx bench/artifacts.ts [--runs N]   (default 3; about 4 minutes on a quiet machine)
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createTestStore, type TestStore } from '../test/helpers/stores';
import type { HashFloorRequest, RoundTripRequest, RoundTripResult } from './artifacts-worker';
import { median, timed } from './harness';

const exec = promisify(execFile);
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 3;
const mib = 1024 * 1024;

interface DataSet {
  name: string;
  dir: string;
  bytes: number;
  files: string[];
}

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  for (let written = 0; written < bytes; written += 4 * mib) {
    if (!out.write(randomBytes(Math.min(4 * mib, bytes - written)))) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

async function makeDataSets(root: string): Promise<DataSet[]> {
  const big = path.join(root, 'big');
  await mkdir(big, { recursive: true });
  await writeRandomFile(path.join(big, 'blob.bin'), 1024 * mib);
  const small = path.join(root, 'small');
  const files: string[] = [];
  for (let d = 0; d < 100; d += 1) {
    await mkdir(path.join(small, `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f += 1) {
      const name = `d${d}/f${f}.bin`;
      await writeRandomFile(path.join(small, name), 4096);
      files.push(name);
    }
  }
  return [
    { name: '1 × 1 GiB', dir: big, bytes: 1024 * mib, files: ['blob.bin'] },
    { name: '10,000 × 4 KiB', dir: small, bytes: 10_000 * 4096, files },
  ];
}

/** The worker process that runs Conveyor's round trips (bench/artifacts-worker.ts). */
class RoundTripWorker {
  private readonly child: ChildProcess;
  private next = 0;
  private readonly waiting = new Map<number, (result: RoundTripResult) => void>();

  constructor() {
    this.child = fork(path.join(__dirname, 'artifacts-worker.ts'), [], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
    });
    this.child.on('message', (message: { id: number; result: RoundTripResult }) => {
      this.waiting.get(message.id)?.(message.result);
      this.waiting.delete(message.id);
    });
  }

  run(request: RoundTripRequest | HashFloorRequest): Promise<RoundTripResult> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const exited = () => reject(new Error('the benchmark worker exited'));
      this.child.once('exit', exited);
      this.waiting.set(id, (result) => {
        this.child.off('exit', exited);
        if (result.error) reject(new Error(result.error));
        else resolve(result);
      });
      this.child.send({ id, request });
    });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** Conveyor's round trip in the worker: pack and publish, then fetch verified and extract. */
function conveyorRoundTrip(worker: RoundTripWorker, subject: TestStore, data: DataSet, out: string) {
  const store: RoundTripRequest['store'] = subject.s3
    ? { kind: 's3', bucket: subject.s3.bucket }
    : { kind: 'fs', root: path.join(path.dirname(subject.spoolDir), 'store') };
  return worker.run({ store, spoolDir: subject.spoolDir, source: data.dir, out });
}

/** The raw client's round trip of the same bytes. */
async function rawRoundTrip(subject: TestStore, data: DataSet, out: string): Promise<void> {
  const { client, bucket } = subject.s3!;
  const keys = data.files.map((file) => `raw/${file}`);
  await inBatches(data.files, 32, (file, i) => client.fPutObject(bucket, keys[i]!, path.join(data.dir, file)));
  await inBatches(data.files, 32, (file, i) => client.fGetObject(bucket, keys[i]!, path.join(out, file)));
  await client.removeObjects(bucket, keys);
}

async function inBatches<T>(items: T[], size: number, body: (item: T, index: number) => Promise<unknown>) {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map((item, offset) => body(item, start + offset)));
  }
}

/** One way of doing the round trip: what it runs, and what each run cost. */
interface Contender {
  body: (out: string) => Promise<RoundTripResult | void>;
  results: RoundTripResult[];
}

/** Runs `body` once writing into a fresh directory: what the worker reports, or the wall time. */
async function measureOnce(root: string, body: Contender['body']): Promise<RoundTripResult> {
  const out = await mkdtemp(path.join(root, 'out-'));
  await rm(out, { recursive: true });
  try {
    let result: RoundTripResult | void = undefined;
    const wall = await timed(async () => (result = await body(out)));
    const reported = result as RoundTripResult | void;
    return reported ?? { ms: wall, uploadMs: 0, downloadMs: 0, bytes: 0, cpuMs: 0, rssGrowth: 0 };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The median of one field over a contender's runs. */
function med(contender: Contender, field: 'ms' | 'uploadMs' | 'downloadMs' | 'cpuMs'): number {
  return median(contender.results.map((result) => result[field]));
}

function maxRss(contender: Contender): number {
  return Math.max(0, ...contender.results.map((result) => result.rssGrowth));
}

function rate(bytes: number, ms: number): string {
  const perSecond = bytes / 1e6 / (ms / 1000);
  return `${perSecond.toFixed(perSecond >= 100 ? 0 : 1)} MB/s`;
}

const load = () => loadavg()[0]!.toFixed(1);

async function main(): Promise<void> {
  const started = Date.now();
  const root = await mkdtemp(path.join(tmpdir(), 'conveyor-bench-artifacts-'));
  const stores: TestStore[] = [];
  let worker: RoundTripWorker | undefined;
  const cleanUp = async () => {
    worker?.stop();
    for (const store of stores.splice(0)) await store.dispose().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };
  // Interrupted, it still removes its files, its bucket and its worker.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  }
  const verdicts: string[] = [];
  try {
    const sets = await makeDataSets(root);
    const fs = await createTestStore('fs');
    stores.push(fs);
    const s3 = await createTestStore('s3');
    stores.push(s3);
    worker = new RoundTripWorker();
    const roundTripper = worker;
    console.log(
      `artifact round trips (pack + publish + fetch verified + extract), median of ${runs} run${runs === 1 ? '' : 's'}; ` +
        `load average ${load()} at the start`,
    );
    for (const data of sets) {
      const contender = (body: Contender['body']): Contender => ({ body, results: [] });
      const cp = contender((out) => exec('cp', ['-r', data.dir, out]).then(() => undefined));
      const onFs = contender((out) => conveyorRoundTrip(roundTripper, fs, data, out));
      const raw = contender(async (out) => {
        await mkdir(out, { recursive: true });
        for (const dir of new Set(data.files.map((file) => path.dirname(file)))) {
          await mkdir(path.join(out, dir), { recursive: true });
        }
        await rawRoundTrip(s3, data, out);
      });
      const onS3 = contender((out) => conveyorRoundTrip(roundTripper, s3, data, out));
      // Alternating, so that a change of load meanwhile falls on every contender alike.
      for (let i = 0; i < runs; i += 1) {
        for (const each of [cp, onFs, raw, onS3]) each.results.push(await measureOnce(root, each.body));
      }
      const archiveBytes = onFs.results[0]!.bytes;
      const floor = await roundTripper.run({ hashFloor: { bytes: archiveBytes } });
      const fsRatio = med(cp, 'ms') / med(onFs, 'ms');
      const s3Ratio = med(raw, 'ms') / med(onS3, 'ms');
      const s3Rate = data.bytes / 1e6 / (med(onS3, 'ms') / 1000);
      const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const split = (each: Contender) =>
        `(upload ${seconds(med(each, 'uploadMs'))}, download ${seconds(med(each, 'downloadMs'))}, ` +
        `worker CPU ${seconds(med(each, 'cpuMs'))})`;
      console.log(`\n${data.name} (${(data.bytes / mib).toFixed(0)} MiB)`);
      console.log(`  cp -r              ${seconds(med(cp, 'ms'))}  ${rate(data.bytes, med(cp, 'ms'))}`);
      console.log(
        `  fs store           ${seconds(med(onFs, 'ms'))}  ${rate(data.bytes, med(onFs, 'ms'))}  ` +
          `${(fsRatio * 100).toFixed(0)} % of cp's throughput  worker RSS +${(maxRss(onFs) / mib).toFixed(0)} MiB  ` +
          split(onFs),
      );
      console.log(
        `  SHA-256 floor      two passes over the ${(archiveBytes / mib).toFixed(0)} MiB archive alone ${seconds(floor.ms)}` +
          ` (a round trip that hashes at each hop reaches at most ${((med(cp, 'ms') / floor.ms) * 100).toFixed(0)} % of cp)`,
      );
      console.log(`  raw minio put+get  ${seconds(med(raw, 'ms'))}  ${rate(data.bytes, med(raw, 'ms'))}`);
      console.log(
        `  MinIO store        ${seconds(med(onS3, 'ms'))}  ${rate(data.bytes, med(onS3, 'ms'))}  ` +
          `${(s3Ratio * 100).toFixed(0)} % of the raw client's throughput  worker RSS +${(maxRss(onS3) / mib).toFixed(0)} MiB  ` +
          split(onS3),
      );
      const verdict = (met: boolean) => (met ? 'met' : 'missed');
      verdicts.push(
        `${data.name}: fs ${(fsRatio * 100).toFixed(0)} % of cp (target ≥ 80 %: ${verdict(fsRatio >= 0.8)}); ` +
          `MinIO ${(s3Ratio * 100).toFixed(0)} % of raw (≥ 80 %: ${verdict(s3Ratio >= 0.8)})` +
          (data.files.length > 1 ? '' : `, ${s3Rate.toFixed(0)} MB/s (≥ 150 MB/s: ${verdict(s3Rate >= 150)})`),
      );
      if (data.files.length > 1) {
        const slowest = Math.max(med(onFs, 'ms'), med(onS3, 'ms'));
        verdicts.push(
          `${data.name}: slowest round trip ${(slowest / 1000).toFixed(1)} s (< 10 s: ${verdict(slowest < 10_000)})`,
        );
      } else {
        const rss = Math.max(maxRss(onFs), maxRss(onS3));
        verdicts.push(
          `${data.name}: worker RSS growth +${(rss / mib).toFixed(0)} MiB (≤ 64 MiB: ${verdict(rss <= 64 * mib)})`,
        );
      }
    }
    console.log(
      `\ntargets (load average ${load()} at the end, ${((Date.now() - started) / 1000).toFixed(0)} s in all):`,
    );
    for (const line of verdicts) console.log(`  ${line}`);
    const left = await readdir(root);
    if (left.some((name) => name.startsWith('out-'))) console.log('warning: an output directory was left behind');
  } finally {
    await cleanUp();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
