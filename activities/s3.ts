/**
 * The S3 connection (MinIO embedded, or any S3): one client from configuration, and the bucket Conveyor keeps
 * artifacts and logs in. The artifact store builds on this.
 */
import { Client as MinioClient } from 'minio';

/** Connection settings of the object store. */
export interface S3Settings {
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
}

/** Creates a client for the configured S3 endpoint. */
export function createS3Client(settings: S3Settings): MinioClient {
  return new MinioClient({
    endPoint: settings.endPoint,
    port: settings.port,
    useSSL: settings.useSSL,
    accessKey: settings.accessKey,
    secretKey: settings.secretKey,
  });
}

/** Creates the bucket when it does not exist yet (idempotent). */
export async function ensureBucket(client: MinioClient, bucket: string): Promise<void> {
  if (!(await client.bucketExists(bucket))) {
    try {
      await client.makeBucket(bucket);
    } catch (error) {
      // Another process may have created it between the check and the call.
      if ((error as { code?: string }).code !== 'BucketAlreadyOwnedByYou') throw error;
    }
  }
}
