/** The object store connection against the embedded stack's real MinIO. */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createS3Client, ensureBucket } from '../../activities/s3';
import { config } from '../helpers/temporal';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

describe('object store (real MinIO)', () => {
  const client = createS3Client(config.s3);

  it('has the Conveyor bucket that conveyor dev up creates', async () => {
    assert.equal(await client.bucketExists(config.s3.bucket), true);
  });

  it('round-trips an object byte for byte and removes it', async () => {
    const key = `test/${randomUUID()}`;
    const body = randomBytes(3 * 1024 * 1024 + 17);
    await client.putObject(config.s3.bucket, key, body, body.length);
    const back = await readAll(await client.getObject(config.s3.bucket, key));
    assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(body).digest('hex'));
    assert.equal((await client.statObject(config.s3.bucket, key)).size, body.length);
    await client.removeObject(config.s3.bucket, key);
    await assert.rejects(client.statObject(config.s3.bucket, key), /Not Found|NoSuchKey/);
  });

  it('creates a missing bucket once and accepts being asked again', async () => {
    const bucket = `conveyor-test-${randomUUID().slice(0, 8)}`;
    await ensureBucket(client, bucket);
    await ensureBucket(client, bucket);
    assert.equal(await client.bucketExists(bucket), true);
    await client.removeBucket(bucket);
  });
});
