/** docker-compose.yml is valid compose (checked by Debian's docker-compose) and describes the same stack. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCommand } from '../helpers/cli';

describe('docker-compose.yml', () => {
  it('is accepted by docker-compose and runs Temporal, MinIO and a worker with the Docker socket', async () => {
    const result = await runCommand('docker-compose', ['-f', 'docker-compose.yml', 'config']);
    assert.equal(result.code, 0, result.stderr);
    const resolved = parse(result.stdout) as {
      services: Record<
        string,
        { image?: string; build?: unknown; volumes?: (string | { source: string; target: string })[] }
      >;
    };
    assert.deepEqual(Object.keys(resolved.services).sort(), ['minio', 'temporal', 'worker']);
    assert.ok(resolved.services.worker?.build, 'the worker is built from the Dockerfile');
    const mounts = (resolved.services.worker?.volumes ?? []).map((volume) =>
      typeof volume === 'string' ? volume : `${volume.source}:${volume.target}`,
    );
    assert.ok(
      mounts.some((mount) => mount.startsWith('/var/run/docker.sock:')),
      mounts.join(', '),
    );
  });

  it('is checked for real: docker-compose rejects a file with an unknown service key', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-compose-'));
    try {
      const file = path.join(dir, 'docker-compose.yml');
      await writeFile(file, 'services:\n  temporal:\n    image: temporalio/temporal:1.5.1\n    imagee: typo\n');
      const result = await runCommand('docker-compose', ['-f', file, 'config', '-q']);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /imagee/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
