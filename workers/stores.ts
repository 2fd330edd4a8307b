/**
 * The artifact store and the log store a process uses, chosen from configuration (docs/artifacts.md): S3 (the
 * embedded stack's MinIO, or any S3) unless `CONVEYOR_STORE=fs`; step logs go to the same place, so that with S3
 * nothing a CLI or another worker host needs is on one machine's disk.
 */
import path from 'node:path';
import { createFsLogStore, type LogStore } from '../activities/log-store';
import { createS3LogStore } from '../activities/log-store-s3';
import { createS3Client } from '../activities/s3';
import { createFsStore } from '../activities/store/fs';
import { createS3Store } from '../activities/store/s3';
import type { ArtifactStore } from '../activities/store/store';
import type { ConveyorConfig } from './config';

/** This process's local scratch directory (upload and download spools). */
export function scratchDir(config: ConveyorConfig): string {
  return path.join(config.dataDir, 'tmp');
}

/** Where the worker keeps the shared source trees of overlay workspaces (docs/triggers.md, "Overlay workspaces"). */
export function sourceTreesDir(config: ConveyorConfig): string {
  return path.join(config.dataDir, 'source-trees');
}

/** The configured artifact store. */
export function createStoreFromConfig(config: ConveyorConfig): ArtifactStore {
  if (config.store.kind === 'fs') return createFsStore(config.store.dir);
  return createS3Store({
    client: createS3Client(config.s3),
    bucket: config.s3.bucket,
    spoolDir: scratchDir(config),
    endpoint: `${config.s3.endPoint}:${config.s3.port}`,
  });
}

/** The configured log store: S3 objects with the S3 store, files under the data dir's `runs/` with fs. */
export function createLogStoreFromConfig(config: ConveyorConfig): LogStore {
  if (config.store.kind === 'fs') return createFsLogStore(path.join(config.dataDir, 'runs'));
  return createS3LogStore({ client: createS3Client(config.s3), bucket: config.s3.bucket });
}
