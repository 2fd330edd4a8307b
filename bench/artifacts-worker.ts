/**
 * The worker side of bench/artifacts.ts: a separate process that runs Conveyor's artifact round trips — the code a
 * worker runs — so that its RSS growth is the worker's own, not the benchmark's (which also generates the files and
 * runs the raw client). Told over IPC which store and which files; answers with the time and the RSS growth: the
 * peak RSS (`VmHWM`, reset through `/proc/self/clear_refs` before each round trip) minus the RSS after a GC before it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { createS3Client } from '../activities/s3';
import { directoryEntries } from '../activities/artifacts/directory-source';
import { fetchVerified, storeArchive } from '../activities/artifacts/transfer';
import { WorkspaceExtraction } from '../activities/artifacts/workspace-extract';
import { createFsStore } from '../activities/store/fs';
import { createS3Store } from '../activities/store/s3';
import type { ArtifactStore } from '../activities/store/store';
import { loadConfig } from '../workers/config';

/** One round trip to run. */
export interface RoundTripRequest {
  store: { kind: 'fs'; root: string } | { kind: 's3'; bucket: string };
  spoolDir: string;
  /** The directory to pack. */
  source: string;
  /** A directory to extract into (must not exist). */
  out: string;
}

/** What it cost: in all, and the upload (pack + publish) and download (fetch verified + check + extract) apart. */
export interface RoundTripResult {
  ms: number;
  uploadMs: number;
  downloadMs: number;
  /** Bytes of the stored archive. */
  bytes: number;
  /** CPU time of the worker process (user + system), milliseconds. */
  cpuMs: number;
  rssGrowth: number;
  error?: string;
}

/** The floor of a round trip's verification: two SHA-256 passes (upload, download) over `bytes` in memory. */
export interface HashFloorRequest {
  hashFloor: { bytes: number };
}

const config = loadConfig();
const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const s3Client = createS3Client(config.s3);
const stores = new Map<string, ArtifactStore>();

function storeFor(request: RoundTripRequest): ArtifactStore {
  const key = request.store.kind === 'fs' ? request.store.root : request.store.bucket;
  let store = stores.get(key);
  if (!store) {
    store =
      request.store.kind === 'fs'
        ? createFsStore(request.store.root)
        : createS3Store({
            client: s3Client,
            bucket: request.store.bucket,
            spoolDir: request.spoolDir,
            endpoint: `${config.s3.endPoint}:${config.s3.port}`,
          });
    stores.set(key, store);
  }
  return store;
}

async function status(field: 'VmRSS' | 'VmHWM'): Promise<number | undefined> {
  const text = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1];
  return kib === undefined ? undefined : Number(kib) * 1024;
}

async function roundTrip(request: RoundTripRequest): Promise<RoundTripResult> {
  const store = storeFor(request);
  global.gc?.();
  // Resets VmHWM to the current RSS (Linux); without it, fall back to sampling.
  const resettable = await writeFile('/proc/self/clear_refs', '5').then(
    () => true,
    () => false,
  );
  const before = (await status('VmRSS')) ?? process.memoryUsage().rss;
  let sampled = before;
  const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 20);
  const start = performance.now();
  const cpu = process.cpuUsage();
  try {
    const stored = await storeArchive(store, directoryEntries(request.source));
    const uploaded = performance.now();
    const verified = await fetchVerified(store, stored.digest, {
      expectedSize: stored.size,
      spoolDir: request.spoolDir,
    });
    try {
      // As downloadArtifacts does into a local workspace: check every entry against the directory, then the
      // system tar (as this process's user: the bench's stand-in for the step user).
      await mkdir(request.out);
      const extraction = await WorkspaceExtraction.start(request.out, owner);
      await extraction.check(verified.open(), 'none');
      if (extraction.way !== 'tar') throw new Error('the system tar is not usable here');
      await extraction.extract(verified, 'none');
    } finally {
      await verified.release();
    }
    const end = performance.now();
    const used = process.cpuUsage(cpu);
    const peak = resettable ? ((await status('VmHWM')) ?? sampled) : sampled;
    // Every round trip uploads afresh (no dedup): the next one must write its bytes again.
    await store.deleteContent(stored.digest);
    return {
      ms: end - start,
      uploadMs: uploaded - start,
      downloadMs: end - uploaded,
      bytes: stored.size,
      cpuMs: (used.user + used.system) / 1000,
      rssGrowth: Math.max(0, peak - before),
    };
  } finally {
    clearInterval(sampler);
    await rm(request.out, { recursive: true, force: true });
  }
}

/** Two SHA-256 passes over `bytes` (1 MiB blocks, as the store reads), the way a round trip hashes: milliseconds. */
function hashFloor(bytes: number): number {
  const block = randomBytes(1024 * 1024);
  const start = performance.now();
  for (let pass = 0; pass < 2; pass += 1) {
    const hash = createHash('sha256');
    for (let done = 0; done < bytes; done += block.length)
      hash.update(block.subarray(0, Math.min(block.length, bytes - done)));
    hash.digest();
  }
  return performance.now() - start;
}

process.on('message', (message: { id: number; request: RoundTripRequest | HashFloorRequest }) => {
  const { request } = message;
  const work =
    'hashFloor' in request
      ? Promise.resolve().then(() => ({ ...noCost, ms: hashFloor(request.hashFloor.bytes) }))
      : roundTrip(request);
  work.then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, result: { ...noCost, error: String(error) } }),
  );
});

const noCost: RoundTripResult = { ms: 0, uploadMs: 0, downloadMs: 0, bytes: 0, cpuMs: 0, rssGrowth: 0 };
// The benchmark going away (or closing the channel) ends the worker.
process.on('disconnect', () => process.exit(0));
