/**
 * docker-compose.cluster.yml (docs/operations.md) is valid compose, checked by Debian's docker-compose, and
 * describes the cluster: Temporal on PostgreSQL with its UI, MinIO, the API server and workers in two pools.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCommand } from '../helpers/cli';

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  volumes?: (string | { source: string; target: string })[];
  deploy?: { replicas?: number };
}

describe('docker-compose.cluster.yml', () => {
  it('is accepted by docker-compose: Temporal on PostgreSQL, its UI, MinIO, the API and workers in two pools', async () => {
    const result = await runCommand('docker-compose', ['-f', 'docker-compose.cluster.yml', 'config']);
    assert.equal(result.code, 0, result.stderr);
    const { services } = parse(result.stdout) as { services: Record<string, Service> };
    assert.deepEqual(Object.keys(services).sort(), [
      'api',
      'minio',
      'postgresql',
      'temporal',
      'temporal-ui',
      'worker',
      'worker-big-memory',
    ]);
    assert.equal(services.temporal?.environment?.DB, 'postgres12');
    assert.equal(services.temporal?.environment?.POSTGRES_SEEDS, 'postgresql');
    const pools = ['worker', 'worker-big-memory'].map((name) => services[name]?.environment?.CONVEYOR_POOLS);
    assert.deepEqual(pools, ['default', 'big-memory']);
    for (const name of ['worker', 'worker-big-memory', 'api']) {
      assert.equal(services[name]?.environment?.TEMPORAL_ADDRESS, 'temporal:7233', name);
      assert.equal(services[name]?.environment?.CONVEYOR_S3_ENDPOINT, 'minio', name);
    }
    for (const name of ['worker', 'worker-big-memory']) {
      const mounts = (services[name]?.volumes ?? []).map((volume) =>
        typeof volume === 'string' ? volume : `${volume.source}:${volume.target}`,
      );
      assert.ok(
        mounts.some((mount) => mount.startsWith('/var/run/docker.sock:')),
        `${name}: ${mounts.join(', ')}`,
      );
    }
    assert.ok((services.worker?.deploy?.replicas ?? 0) >= 2, 'several workers in the default pool');
  });
});
