/**
 * The ArtifactStore contract, run against both backends: a temporary directory (fs) and the embedded stack's real
 * MinIO (s3, a fresh bucket per run).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, utimes, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  ContentDigestMismatchError,
  ContentNotFoundError,
  contentKey,
  type Temporary,
} from '../../activities/store/store';
import { listIncompleteUploads } from '../../activities/store/s3';
import { createTestStore, type TestStore } from '../helpers/stores';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

/** Scratch files and unfinished uploads a store has left behind. */
async function leftovers(subject: TestStore): Promise<string[]> {
  const files = await readdir(subject.spoolDir).catch(() => [] as string[]);
  const fsTmp = subject.kind === 'fs' ? await readdir(path.join(subject.store.location, 'tmp')).catch(() => []) : [];
  const uploads = subject.s3 ? await listIncompleteUploads(subject.s3.client, subject.s3.bucket) : [];
  return [...files, ...fsTmp, ...uploads.map((upload) => `upload ${upload.key}`)];
}

for (const kind of ['fs', 's3'] as const) {
  describe(`artifact store contract (${kind})`, () => {
    let subject: TestStore;
    // Small parts so that multipart uploads are exercised with a few MiB.
    before(async () => {
      subject = await createTestStore(kind, { partSize: 5 * 1024 * 1024 });
    });
    after(() => subject.dispose());

    it('stores content under its SHA-256 at cas/sha256/ab/cd/<digest> and returns it byte for byte', async () => {
      const data = randomBytes(100_000);
      const result = await subject.store.putContent(Readable.from([data]));
      assert.deepEqual(result, {
        digest: sha256(data),
        size: data.length,
        bytesWritten: data.length,
        deduplicated: false,
      });
      assert.deepEqual(await readAll(await subject.store.getContent(result.digest)), data);
      const info = await subject.store.statContent(result.digest);
      assert.equal(info?.size, data.length);
      assert.match(
        contentKey(result.digest),
        new RegExp(`^cas/sha256/${result.digest.slice(0, 2)}/${result.digest.slice(2, 4)}/${result.digest}$`),
      );
      const listed = await collect(subject.store.listContent());
      assert.ok(listed.some((item) => item.digest === result.digest && item.size === data.length));
    });

    it('stores identical content once: the second upload writes no content bytes and says so', async () => {
      const data = randomBytes(64 * 1024 + 3);
      const first = await subject.store.putContent(Readable.from([data]));
      const second = await subject.store.putContent(Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
      assert.equal(first.deduplicated, false);
      assert.deepEqual(second, { digest: first.digest, size: data.length, bytesWritten: 0, deduplicated: true });
      const copies = (await collect(subject.store.listContent())).filter((item) => item.digest === first.digest);
      assert.equal(copies.length, 1);
      assert.deepEqual(await leftovers(subject), []);
    });

    it('round-trips content larger than one upload part, leaving no temporary behind', async () => {
      const data = randomBytes(12 * 1024 * 1024 + 5);
      const temporaries: Temporary[] = [];
      const result = await subject.store.putContent(Readable.from([data]), { onTemporary: (t) => temporaries.push(t) });
      assert.equal(result.digest, sha256(data));
      assert.equal(sha256(await readAll(await subject.store.getContent(result.digest))), result.digest);
      assert.ok(temporaries.length >= 1, 'temporaries are reported as they are created');
      if (kind === 's3')
        assert.ok(
          temporaries.some((t) => t.kind === 'multipart'),
          'large content goes up in parts',
        );
      assert.deepEqual(await leftovers(subject), []);
    });

    it('stores empty content', async () => {
      const result = await subject.store.putContent(Readable.from([]));
      assert.equal(result.digest, sha256(Buffer.alloc(0)));
      assert.equal(result.size, 0);
      assert.equal((await readAll(await subject.store.getContent(result.digest))).length, 0);
    });

    it('refuses content that does not hash to the expected digest, publishing nothing', async () => {
      const data = randomBytes(6 * 1024 * 1024);
      const wrong = sha256(Buffer.from('something else'));
      await assert.rejects(
        subject.store.putContent(Readable.from([data]), { expectedDigest: wrong }),
        ContentDigestMismatchError,
      );
      assert.equal(await subject.store.statContent(sha256(data)), undefined);
      assert.equal(await subject.store.statContent(wrong), undefined);
      assert.deepEqual(await leftovers(subject), []);
    });

    it('publishes nothing when the quota hook refuses, or when the source fails midway', async () => {
      const data = randomBytes(7 * 1024 * 1024);
      await assert.rejects(
        subject.store.putContent(Readable.from([data]), {
          beforePublish: () => Promise.reject(new Error('over quota')),
        }),
        /over quota/,
      );
      assert.equal(await subject.store.statContent(sha256(data)), undefined);
      async function* failing() {
        yield data.subarray(0, 3 * 1024 * 1024);
        throw new Error('source broke');
      }
      await assert.rejects(subject.store.putContent(Readable.from(failing())), /source broke/);
      assert.deepEqual(await leftovers(subject), []);
    });

    it('answers missing content with ContentNotFoundError, undefined and false, without touching anything', async () => {
      const missing = sha256(randomBytes(10));
      await assert.rejects(subject.store.getContent(missing), ContentNotFoundError);
      await assert.rejects(subject.store.getContent('not-a-digest'), ContentNotFoundError);
      assert.equal(await subject.store.statContent(missing), undefined);
      assert.equal(await subject.store.deleteContent(missing), false);
    });

    it('deletes content, and moves it to the trash and back', async () => {
      const data = randomBytes(2000);
      const { digest } = await subject.store.putContent(Readable.from([data]));
      assert.equal(await subject.store.retireContent(digest), true);
      assert.equal(await subject.store.statContent(digest), undefined);
      assert.deepEqual(
        (await collect(subject.store.listRetired())).map((item) => item.digest),
        [digest],
      );
      assert.equal(await subject.store.reinstateContent(digest), true);
      assert.deepEqual(await readAll(await subject.store.getContent(digest)), data);
      assert.equal(await subject.store.retireContent(digest), true);
      assert.equal(await subject.store.purgeRetired(digest), true);
      assert.equal(await subject.store.reinstateContent(digest), false);
      const again = await subject.store.putContent(Readable.from([data]));
      assert.equal(await subject.store.deleteContent(again.digest), true);
      assert.equal(await subject.store.deleteContent(again.digest), false);
      assert.equal(await subject.store.statContent(digest), undefined);
    });

    it('keeps records apart from content: put, get, list by prefix in key order, delete', async () => {
      await subject.store.putRecord('meta/test/b/2.json', { n: 2 });
      await subject.store.putRecord('meta/test/a/1.json', { n: 1, text: 'ünïcode' });
      await subject.store.putRecord('meta/test/a-b/3.json', { n: 3 });
      await subject.store.putRecord('meta/other/9.json', { n: 9 });
      assert.deepEqual(await subject.store.getRecord('meta/test/a/1.json'), { n: 1, text: 'ünïcode' });
      assert.equal(await subject.store.getRecord('meta/test/none.json'), undefined);
      const keys = (await collect(subject.store.listRecords('meta/test/'))).map((record) => record.key);
      assert.deepEqual(keys, ['meta/test/a-b/3.json', 'meta/test/a/1.json', 'meta/test/b/2.json']);
      const narrower = (await collect(subject.store.listRecords('meta/test/a/'))).map((record) => record.key);
      assert.deepEqual(narrower, ['meta/test/a/1.json']);
      await subject.store.putRecord('meta/test/a/1.json', { n: 11 });
      assert.deepEqual(await subject.store.getRecord('meta/test/a/1.json'), { n: 11 });
      assert.equal(await subject.store.deleteRecord('meta/test/a/1.json'), true);
      assert.equal(await subject.store.deleteRecord('meta/test/a/1.json'), false);
      await assert.rejects(subject.store.putRecord('../escape.json', {}), /invalid store key/);
    });

    it('publishes concurrent uploads of the same content as one object', async () => {
      const data = randomBytes(6 * 1024 * 1024 + 1);
      const results = await Promise.all([1, 2, 3].map(() => subject.store.putContent(Readable.from([data]))));
      assert.deepEqual(new Set(results.map((result) => result.digest)), new Set([sha256(data)]));
      const copies = (await collect(subject.store.listContent())).filter((item) => item.digest === sha256(data));
      assert.equal(copies.length, 1);
      assert.equal(sha256(await readAll(await subject.store.getContent(sha256(data)))), sha256(data));
      assert.deepEqual(await leftovers(subject), []);
    });

    it('removes a temporary a crashed attempt reported, and sweeps orphans older than the cut-off', async () => {
      // A scratch file of a process that no longer exists, and one that is merely old.
      const scratchDir = kind === 'fs' ? path.join(subject.store.location, 'tmp') : subject.spoolDir;
      await mkdir(scratchDir, { recursive: true });
      await writeFile(path.join(scratchDir, '999999999-dead.part'), 'x');
      const old = path.join(scratchDir, `${process.pid}-old.part`);
      await writeFile(old, 'x');
      await utimes(old, new Date('2020-01-01'), new Date('2020-01-01'));
      const young = path.join(scratchDir, `${process.pid}-young.part`);
      await writeFile(young, 'x');
      let swept = await subject.store.sweepTemporaries(new Date(Date.now() - 3600_000));
      assert.equal(swept, 2);
      await subject.store.removeTemporary({ kind: 'file', path: young });
      if (subject.s3) {
        const { client, bucket } = subject.s3;
        const key = contentKey(sha256(Buffer.from('never finished')));
        const uploadId = await client.initiateNewMultipartUpload(bucket, key, {});
        await client.initiateNewMultipartUpload(bucket, `${key}-2`.replace('cas/', 'cas/'), {});
        await subject.store.removeTemporary({ kind: 'multipart', key, uploadId });
        assert.equal((await listIncompleteUploads(client, bucket)).length, 1);
        assert.equal(await subject.store.sweepTemporaries(new Date(Date.now() - 3600_000)), 0);
        swept = await subject.store.sweepTemporaries(new Date(Date.now() + 60_000));
        assert.equal(swept, 1);
      }
      assert.deepEqual(await leftovers(subject), []);
    });
  });
}
