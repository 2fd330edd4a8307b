/**
 * The `s3` artifact store: a bucket of MinIO or any S3, through the `minio` client. The default whenever an S3
 * endpoint is configured (the embedded stack configures its MinIO), and what lets workers on several hosts share
 * artifacts: they share nothing else but Temporal.
 *
 * An upload is first spooled to a local scratch file while it is hashed, so the digest is known before anything
 * reaches the bucket: identical content already there costs no transfer at all (dedup), and the quota check sees
 * the real size. Publishing is then atomic and verified by the server:
 *
 * - up to one part (8 MiB), a single PUT to the content key whose signed `x-amz-content-sha256` is the digest
 *   itself, so the server refuses bytes that do not hash to it, and the object appears whole or not at all;
 * - larger content as a multipart upload — the temporary: parts are invisible until completed — each part
 *   checked by the server against its signed SHA-256 (over plain HTTP; over HTTPS, where the client does not sign
 *   payloads, against its MD5, the part's ETag) before `CompleteMultipartUpload` publishes the object atomically,
 *   and the published size checked after. Parts go `concurrency` at a time, each worker reusing one buffer.
 *
 * Memory stays bounded by `partSize × concurrency` (24 MiB by default) whatever the content size
 * (docs/benchmarks.md#artifact-transfer-profile).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CopyDestinationOptions, CopySourceOptions, type Client as MinioClient } from 'minio';
import { HashingStream, ioBlockSize, scratchPath, sweepScratch } from './scratch';
import {
  checkRecordKey,
  contentKey,
  ContentDigestMismatchError,
  ContentNotFoundError,
  isHexDigest,
  retiredKey,
  StoreUnavailableError,
  type ArtifactStore,
  type ContentInfo,
  type RecordInfo,
} from './store';

/** What the S3 store needs. */
export interface S3StoreOptions {
  client: MinioClient;
  bucket: string;
  /** Local directory for upload spools (the worker's data dir `tmp/`). */
  spoolDir: string;
  /** `host:port`, for messages. */
  endpoint: string;
  /** Bytes per multipart part (default 8 MiB, more for content over 80 GB: S3 allows 10,000 parts; at least 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once (default 3). */
  concurrency?: number;
}

/** Creates a store in `bucket` (which must exist: `conveyor dev up` creates it). */
export function createS3Store(options: S3StoreOptions): ArtifactStore {
  const { client, bucket, spoolDir } = options;
  const basePartSize = options.partSize ?? 8 * 1024 * 1024;
  const concurrency = options.concurrency ?? 3;
  // S3 allows at most 10,000 parts to an object.
  const partSizeFor = (size: number) => Math.max(basePartSize, Math.ceil(size / 10_000));
  // Over plain HTTP the client signs each payload's SHA-256 and the server checks it; over HTTPS it sends
  // UNSIGNED-PAYLOAD, and the part's MD5 (its ETag) is checked here instead.
  const signsPayloads = (client as unknown as { enableSHA256?: boolean }).enableSHA256 === true;
  const location = `s3://${bucket} at ${options.endpoint}`;
  const call = <T>(doing: string, body: () => Promise<T>) => withS3Errors(location, doing, body);

  async function statKey(key: string): Promise<{ size: number; lastModified: Date } | undefined> {
    try {
      return await client.statObject(bucket, key);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async function* listKeys(prefix: string): AsyncIterable<{ name: string; size: number; lastModified: Date }> {
    for await (const item of client.listObjectsV2(bucket, prefix, true)) {
      const entry = item as { name?: string; size: number; lastModified: Date };
      if (entry.name) yield { name: entry.name, size: entry.size, lastModified: entry.lastModified };
    }
  }

  /** Server-side copy (CopyObject up to 5 GiB, a multipart copy above). */
  async function copyKey(from: string, to: string, size: number): Promise<void> {
    const source = new CopySourceOptions({ Bucket: bucket, Object: from });
    const destination = new CopyDestinationOptions({ Bucket: bucket, Object: to });
    if (size <= 5 * 1024 ** 3) await client.copyObject(source, destination);
    else await client.composeObject(destination, [source]);
  }

  async function* listInfo(prefix: string, what: string): AsyncIterable<ContentInfo> {
    const items = listKeys(prefix)[Symbol.asyncIterator]();
    for (;;) {
      const next = await call(what, () => items.next());
      if (next.done) return;
      const digest = next.value.name.slice(next.value.name.lastIndexOf('/') + 1);
      if (isHexDigest(digest)) {
        yield { digest, size: next.value.size, modifiedAt: next.value.lastModified.toISOString() };
      }
    }
  }

  async function publish(
    spool: string,
    digest: string,
    size: number,
    onTemporary: ((temporary: { kind: 'multipart'; key: string; uploadId: string }) => void) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const key = contentKey(digest);
    const file = await open(spool, 'r');
    try {
      if (size <= basePartSize) {
        const body = Buffer.alloc(size);
        await file.read(body, 0, size, 0);
        // minio signs the payload with its SHA-256 over http; the server recomputes it before storing anything.
        await client.putObject(bucket, key, body, size, { 'Content-Type': 'application/octet-stream' });
      } else {
        const uploadId = await client.initiateNewMultipartUpload(bucket, key, {
          'Content-Type': 'application/octet-stream',
        });
        onTemporary?.({ kind: 'multipart', key, uploadId });
        try {
          const etags = await uploadParts(file, key, uploadId, size, signal);
          await client.completeMultipartUpload(bucket, key, uploadId, etags);
        } catch (error) {
          await client.abortMultipartUpload(bucket, key, uploadId).catch(() => undefined);
          throw error;
        }
      }
    } finally {
      await file.close();
    }
    const published = await statKey(key);
    if (published?.size !== size) {
      throw new StoreUnavailableError(
        `${location}: ${key} has ${published?.size ?? 'no'} bytes after upload, not ${size}`,
      );
    }
  }

  async function uploadParts(
    file: Awaited<ReturnType<typeof open>>,
    key: string,
    uploadId: string,
    size: number,
    signal: AbortSignal | undefined,
  ): Promise<{ part: number; etag: string }[]> {
    const partSize = partSizeFor(size);
    const count = Math.ceil(size / partSize);
    const etags: { part: number; etag: string }[] = [];
    let next = 0;
    const worker = async () => {
      // One buffer per worker, reused for each of its parts.
      const buffer = Buffer.allocUnsafe(partSize);
      for (;;) {
        signal?.throwIfAborted();
        const index = next++;
        if (index >= count) return;
        const offset = index * partSize;
        const length = Math.min(partSize, size - offset);
        const body = buffer.subarray(0, length);
        const { bytesRead } = await file.read(body, 0, length, offset);
        if (bytesRead !== length) throw new Error(`short read of the upload spool at ${offset}`);
        const md5 = signsPayloads ? undefined : createHash('md5').update(body).digest('hex');
        const part = await client.uploadPart(
          { bucketName: bucket, objectName: key, uploadID: uploadId, partNumber: index + 1, headers: {} },
          body,
        );
        // A plain S3 part's ETag is its MD5 (encrypted buckets use opaque ETags, which cannot be checked).
        if (md5 && /^[0-9a-f]{32}$/.test(part.etag) && part.etag !== md5) {
          throw new StoreUnavailableError(
            `${location}: part ${index + 1} of ${key} arrived altered (ETag ${part.etag}, sent ${md5})`,
          );
        }
        etags.push({ part: index + 1, etag: part.etag });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return etags.sort((a, b) => a.part - b.part);
  }

  return {
    kind: 's3',
    location,

    putContent: (source, options = {}) =>
      call('uploading content', async () => {
        const spool = await scratchPath(spoolDir);
        options.onTemporary?.({ kind: 'file', path: spool });
        const hasher = new HashingStream(options.onProgress);
        try {
          await pipeline(source, hasher, createWriteStream(spool, { flags: 'wx', highWaterMark: ioBlockSize }), {
            signal: options.signal,
          });
          const digest = hasher.digest();
          const size = hasher.bytes;
          if (options.expectedDigest && digest !== options.expectedDigest) {
            throw new ContentDigestMismatchError(options.expectedDigest, digest);
          }
          await options.onDigest?.(digest, size);
          if (await statKey(contentKey(digest))) return { digest, size, bytesWritten: 0, deduplicated: true };
          await options.beforePublish?.(digest, size);
          await publish(spool, digest, size, options.onTemporary, options.signal);
          return { digest, size, bytesWritten: size, deduplicated: false };
        } finally {
          await rm(spool, { force: true });
        }
      }),

    getContent: (digest) =>
      call('downloading content', async (): Promise<Readable> => {
        if (!isHexDigest(digest)) throw new ContentNotFoundError(digest);
        try {
          return await client.getObject(bucket, contentKey(digest));
        } catch (error) {
          if (isNotFound(error)) throw new ContentNotFoundError(digest);
          throw error;
        }
      }),

    statContent: (digest) =>
      call('looking up content', async () => {
        if (!isHexDigest(digest)) return undefined;
        const info = await statKey(contentKey(digest));
        return info ? { digest, size: info.size, modifiedAt: info.lastModified.toISOString() } : undefined;
      }),

    deleteContent: (digest) =>
      call('deleting content', async () => {
        if (!isHexDigest(digest) || !(await statKey(contentKey(digest)))) return false;
        await client.removeObject(bucket, contentKey(digest));
        return true;
      }),

    listContent: () => listInfo('cas/sha256/', 'listing content'),

    retireContent: (digest) =>
      call('retiring content', async () => {
        const info = isHexDigest(digest) ? await statKey(contentKey(digest)) : undefined;
        if (!info) return false;
        await copyKey(contentKey(digest), retiredKey(digest), info.size);
        await client.removeObject(bucket, contentKey(digest));
        return true;
      }),

    reinstateContent: (digest) =>
      call('reinstating content', async () => {
        const info = isHexDigest(digest) ? await statKey(retiredKey(digest)) : undefined;
        if (!info) return false;
        // Unless it was published again meanwhile (then the same bytes are already back).
        if (!(await statKey(contentKey(digest)))) await copyKey(retiredKey(digest), contentKey(digest), info.size);
        await client.removeObject(bucket, retiredKey(digest));
        return true;
      }),

    purgeRetired: (digest) =>
      call('purging retired content', async () => {
        if (!isHexDigest(digest) || !(await statKey(retiredKey(digest)))) return false;
        await client.removeObject(bucket, retiredKey(digest));
        return true;
      }),

    listRetired: () => listInfo('trash/sha256/', 'listing retired content'),

    putRecord: (key, value) =>
      call('writing a record', async () => {
        const body = Buffer.from(JSON.stringify(value));
        await client.putObject(bucket, checkRecordKey(key), body, body.length, { 'Content-Type': 'application/json' });
      }),

    getRecord: <T>(key: string) =>
      call('reading a record', async (): Promise<T | undefined> => {
        let stream: Readable;
        try {
          stream = await client.getObject(bucket, checkRecordKey(key));
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
      }),

    deleteRecord: (key) =>
      call('deleting a record', async () => {
        if (!(await statKey(checkRecordKey(key)))) return false;
        await client.removeObject(bucket, key);
        return true;
      }),

    async *listRecords(prefix): AsyncIterable<RecordInfo> {
      const items = listKeys(prefix)[Symbol.asyncIterator]();
      for (;;) {
        const next = await call('listing records', () => items.next());
        if (next.done) return;
        yield { key: next.value.name, size: next.value.size, modifiedAt: next.value.lastModified.toISOString() };
      }
    },

    removeTemporary: (temporary) =>
      call('removing a temporary', async () => {
        if (temporary.kind === 'file') await rm(temporary.path, { force: true });
        else await client.abortMultipartUpload(bucket, temporary.key, temporary.uploadId).catch(ignoreNoSuchUpload);
      }),

    sweepTemporaries: (olderThan) =>
      call('sweeping temporaries', async () => {
        let removed = await sweepScratch(spoolDir, olderThan);
        let keyMarker = '';
        let uploadIdMarker = '';
        for (;;) {
          // MinIO lists unfinished uploads under an object name only, not a key prefix: list all, keep content keys.
          const page = await client.listIncompleteUploadsQuery(bucket, '', keyMarker, uploadIdMarker, '');
          for (const upload of page.uploads) {
            if (!upload.key.startsWith('cas/') || upload.initiated >= olderThan) continue;
            await client.abortMultipartUpload(bucket, upload.key, upload.uploadId).catch(ignoreNoSuchUpload);
            removed += 1;
          }
          if (!page.isTruncated) return removed;
          keyMarker = page.nextKeyMarker;
          uploadIdMarker = page.nextUploadIdMarker;
        }
      }),
  };
}

/** Unfinished uploads under `prefix` (tests and `artifacts verify --all` look for leftovers). */
export async function listIncompleteUploads(
  client: MinioClient,
  bucket: string,
  prefix = '',
): Promise<{ key: string; uploadId: string; initiated: Date }[]> {
  const result: { key: string; uploadId: string; initiated: Date }[] = [];
  let keyMarker = '';
  let uploadIdMarker = '';
  for (;;) {
    const page = await client.listIncompleteUploadsQuery(bucket, prefix, keyMarker, uploadIdMarker, '');
    result.push(...page.uploads.map(({ key, uploadId, initiated }) => ({ key, uploadId, initiated })));
    if (!page.isTruncated) return result;
    keyMarker = page.nextKeyMarker;
    uploadIdMarker = page.nextUploadIdMarker;
  }
}

interface S3Error {
  code?: string;
  statusCode?: number;
  message?: string;
}

function isNotFound(error: unknown): boolean {
  const e = error as S3Error;
  return e?.code === 'NoSuchKey' || e?.code === 'NotFound' || e?.statusCode === 404;
}

function ignoreNoSuchUpload(error: unknown): void {
  if ((error as S3Error)?.code !== 'NoSuchUpload') throw error;
}

const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'XMinioServerNotInitialized',
  'XMinioStorageFull',
]);

/** Runs an S3 call, turning "the store is not there right now" into a retryable StoreUnavailableError. */
async function withS3Errors<T>(location: string, doing: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const e = error as S3Error & { cause?: S3Error; errors?: S3Error[] };
    const code = e?.code ?? e?.cause?.code ?? e?.errors?.[0]?.code;
    if ((code && transientCodes.has(code)) || (e?.statusCode ?? 0) >= 500) {
      throw new StoreUnavailableError(
        `the artifact store (${location}) failed while ${doing}: ${code ?? `HTTP ${e.statusCode}`}` +
          ` (is MinIO running? 'conveyor dev status' shows it)`,
        code,
      );
    }
    throw error;
  }
}
