/**
 * Artifact transfer speed and memory (docs/benchmarks.md#artifacts, docs/artifacts.md): a round trip — pack a
 * directory into the store (deterministic tar, SHA-256 while streaming, verified publish), then fetch it verified and
 * extract it into an empty directory — for 1 × 1 GiB and 10,000 × 4 KiB files, on the `fs` store and on the stack's
 * MinIO. Baselines measured in the same run on the same files: `cp -r` (for fs), and the raw `minio` client putting
 * and getting the same bytes (for MinIO: the 1 GiB file as one object; the small files one object each, 32 at a
 * time). Also the growth of this process's RSS during the 1 GiB round trips (this process runs the same code a
 * worker does). Prints medians of several runs and ratios; asserts nothing.
 *
 *   npx tsx bench/artifacts.ts [--runs N]   (default 3; with node --expose-gc the RSS baseline is taken after a GC)
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { extractToDirectory } from '../activities/artifacts/archive-read';
import { directoryEntries } from '../activities/artifacts/directory-source';
import { fetchVerified, storeArchive } from '../activities/artifacts/transfer';
import { createTestStore, type TestStore } from '../test/helpers/stores';
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

/** Conveyor's round trip: pack and publish, then fetch verified and extract. */
async function conveyorRoundTrip(subject: TestStore, data: DataSet, out: string): Promise<void> {
  const stored = await storeArchive(subject.store, directoryEntries(data.dir));
  const verified = await fetchVerified(subject.store, stored.digest, {
    expectedSize: stored.size,
    spoolDir: subject.spoolDir,
  });
  try {
    await extractToDirectory(verified.open(), 'none', out);
  } finally {
    await verified.release();
  }
  // Every round trip uploads afresh (no dedup): the next one must write its bytes again.
  await subject.store.deleteContent(stored.digest);
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

/** Times `body` writing into a fresh directory, `runs` times; returns the median ms and the largest RSS growth. */
async function measure(root: string, body: (out: string) => Promise<void>): Promise<{ ms: number; rss: number }> {
  const times: number[] = [];
  let rssGrowth = 0;
  for (let i = 0; i < runs; i += 1) {
    const out = await mkdtemp(path.join(root, 'out-'));
    await rm(out, { recursive: true });
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      times.push(await timed(() => body(out)));
    } finally {
      clearInterval(sampler);
      await rm(out, { recursive: true, force: true });
    }
    rssGrowth = Math.max(rssGrowth, peak - before);
  }
  return { ms: median(times), rss: rssGrowth };
}

function rate(bytes: number, ms: number): string {
  const perSecond = bytes / 1e6 / (ms / 1000);
  return `${perSecond.toFixed(perSecond >= 100 ? 0 : 1)} MB/s`;
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'conveyor-bench-artifacts-'));
  const stores: TestStore[] = [];
  const cleanUp = async () => {
    for (const store of stores.splice(0)) await store.dispose().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };
  // Interrupted, it still removes its files and its bucket.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  }
  try {
    const sets = await makeDataSets(root);
    const fs = await createTestStore('fs');
    stores.push(fs);
    const s3 = await createTestStore('s3');
    stores.push(s3);
    console.log(`artifact round trips (pack + publish + fetch verified + extract), median of ${runs} runs`);
    for (const data of sets) {
      const cp = await measure(root, (out) => exec('cp', ['-r', data.dir, out]).then(() => undefined));
      const onFs = await measure(root, (out) => conveyorRoundTrip(fs, data, out));
      const raw = await measure(root, async (out) => {
        await mkdir(out, { recursive: true });
        for (const dir of new Set(data.files.map((file) => path.dirname(file)))) {
          await mkdir(path.join(out, dir), { recursive: true });
        }
        await rawRoundTrip(s3, data, out);
      });
      const onS3 = await measure(root, (out) => conveyorRoundTrip(s3, data, out));
      console.log(`\n${data.name} (${(data.bytes / mib).toFixed(0)} MiB)`);
      console.log(`  cp -r              ${(cp.ms / 1000).toFixed(2)} s  ${rate(data.bytes, cp.ms)}`);
      console.log(
        `  fs store           ${(onFs.ms / 1000).toFixed(2)} s  ${rate(data.bytes, onFs.ms)}  ` +
          `${((cp.ms / onFs.ms) * 100).toFixed(0)} % of cp's throughput  RSS +${(onFs.rss / mib).toFixed(0)} MiB`,
      );
      console.log(`  raw minio put+get  ${(raw.ms / 1000).toFixed(2)} s  ${rate(data.bytes, raw.ms)}`);
      console.log(
        `  MinIO store        ${(onS3.ms / 1000).toFixed(2)} s  ${rate(data.bytes, onS3.ms)}  ` +
          `${((raw.ms / onS3.ms) * 100).toFixed(0)} % of the raw client's throughput  RSS +${(onS3.rss / mib).toFixed(0)} MiB`,
      );
    }
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
