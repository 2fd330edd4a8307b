/**
 * Artifact stores for tests: a fresh temporary directory (fs), or a fresh bucket on the embedded stack's real MinIO
 * (s3). Each is removed, with everything in it, by `dispose`.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client as MinioClient } from 'minio';
import { createS3Client, ensureBucket } from '../../activities/s3';
import { createFsStore } from '../../activities/store/fs';
import { createS3Store, type S3StoreOptions } from '../../activities/store/s3';
import { contentKey, type ArtifactStore, type StoreKind } from '../../activities/store/store';
import { loadConfig } from '../../workers/config';

// Not from ./temporal: benchmarks use these stores too, and that module installs the Temporal runtime.
const config = loadConfig();

/** A store under test and how to get rid of it. */
export interface TestStore {
  store: ArtifactStore;
  kind: StoreKind;
  /** Local scratch directory (S3 upload spools, download spools). */
  spoolDir: string;
  /** The MinIO client and bucket (s3 only). */
  s3?: { client: MinioClient; bucket: string };
  dispose(): Promise<void>;
}

/** Creates an empty store of `kind`. */
export async function createTestStore(
  kind: StoreKind,
  options: Partial<Pick<S3StoreOptions, 'partSize' | 'concurrency'>> & { client?: MinioClient; endpoint?: string } = {},
): Promise<TestStore> {
  const dir = await mkdtemp(path.join(tmpdir(), `conveyor-store-${kind}-`));
  const spoolDir = path.join(dir, 'spool');
  if (kind === 'fs') {
    return {
      kind,
      store: createFsStore(path.join(dir, 'store')),
      spoolDir,
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const client = options.client ?? createS3Client(config.s3);
  const bucket = `conveyor-test-${randomUUID().slice(0, 12)}`;
  await ensureBucket(client, bucket);
  const store = createS3Store({
    client,
    bucket,
    spoolDir,
    endpoint: options.endpoint ?? `${config.s3.endPoint}:${config.s3.port}`,
    partSize: options.partSize,
    concurrency: options.concurrency,
  });
  return {
    kind,
    store,
    spoolDir,
    s3: { client, bucket },
    dispose: async () => {
      await emptyBucket(client, bucket);
      await client.removeBucket(bucket);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Removes every object and unfinished upload of a bucket. */
export async function emptyBucket(client: MinioClient, bucket: string): Promise<void> {
  const names: string[] = [];
  for await (const item of client.listObjectsV2(bucket, '', true)) {
    const name = (item as { name?: string }).name;
    if (name) names.push(name);
  }
  for (let i = 0; i < names.length; i += 500) await client.removeObjects(bucket, names.slice(i, i + 500));
  const page = await client.listIncompleteUploadsQuery(bucket, '', '', '', '');
  for (const upload of page.uploads) await client.abortMultipartUpload(bucket, upload.key, upload.uploadId);
}

/** The bytes of a content object. */
export async function readStoredContent(subject: TestStore, hex: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await subject.store.getContent(hex)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Replaces a content object's bytes behind the store's back, as a failing disk or a bucket mishap would. */
export async function overwriteContent(subject: TestStore, hex: string, bytes: Buffer): Promise<void> {
  if (subject.s3) {
    await subject.s3.client.putObject(subject.s3.bucket, contentKey(hex), bytes, bytes.length);
    return;
  }
  const file = path.join(subject.store.location, contentKey(hex));
  await chmod(file, 0o644);
  await writeFile(file, bytes);
  await chmod(file, 0o444);
}
