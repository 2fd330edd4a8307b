/**
 * CPU spent by `conveyor logs -f RUN` while a step prints 100 MB of output, against one read of the finished log
 * (`conveyor logs RUN`) measured in the same round: a follower that reads only the bytes added since its last read
 * costs about the same as one pass over the finished log; one that rereads whole files on every poll costs far more.
 * CPU times are user + system seconds of the CLI process (from `/usr/bin/time`), median of several rounds, for each
 * log store (`fs`: files in the data dir, `s3`: chunks in the stack's MinIO). The pipeline runs on Conveyor's real
 * workers started here on a fresh task queue with that store, so the stack's own worker is not involved.
 * Run: `conveyor dev up`, then `npx tsx bench/log-follow.ts [rounds] [megabytes] [fs,s3]`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { slug } from '../activities/names';
import { createS3Client } from '../activities/s3';
import { loadConfig } from '../workers/config';
import { withConveyorWorkers } from '../workers/create-workers';
import { createLogStoreFromConfig } from '../workers/stores';
import { config, docker, median } from './harness';

const root = path.resolve(__dirname, '..');
const conveyorBin = process.env.CONVEYOR_BENCH_BIN ?? path.join(root, 'bin/conveyor');

interface Usage {
  cpuSeconds: number;
  wallSeconds: number;
  stdout: string;
}

/** Runs a command under `/usr/bin/time` and returns its CPU (user + system) and wall seconds. */
function measured(args: string[], env: NodeJS.ProcessEnv, keepStdout = false): Promise<Usage> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %U %S %e', conveyorBin, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (keepStdout) stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      const match = /TIME (\S+) (\S+) (\S+)/.exec(stderr);
      if (code !== 0 || !match) {
        reject(new Error(`conveyor ${args.join(' ')} exited ${code}:\n${stderr}`));
        return;
      }
      resolve({ cpuSeconds: Number(match[1]) + Number(match[2]), wallSeconds: Number(match[3]), stdout });
    });
  });
}

/** Removes a benchmark run's logs (hundreds of MB) from the store. */
async function removeLogs(store: 'fs' | 's3', runId: string): Promise<void> {
  if (store === 'fs') {
    await rm(path.join(config.dataDir, 'runs', slug(runId)), { recursive: true, force: true });
    return;
  }
  const s3 = createS3Client(config.s3);
  const names: string[] = [];
  for await (const item of s3.listObjectsV2(config.s3.bucket, `logs/${slug(runId)}/`, true)) {
    const name = (item as { name?: string }).name;
    if (name) names.push(name);
  }
  await s3.removeObjects(config.s3.bucket, names);
}

/** Runs `rounds` rounds on workers whose log store is `store`; returns the medians. */
async function measureStore(store: 'fs' | 's3', file: string, rounds: number) {
  const taskQueue = `bench-logs-${randomUUID().slice(0, 8)}`;
  const env = { CONVEYOR_STORE: store, CONVEYOR_TASK_QUEUE: taskQueue };
  const storeConfig = loadConfig({ ...process.env, ...env });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const follow: number[] = [];
  const once: number[] = [];
  const followWall: number[] = [];
  try {
    await withConveyorWorkers(
      {
        connection,
        namespace: config.temporal.namespace,
        taskQueue,
        docker,
        logs: createLogStoreFromConfig(storeConfig),
      },
      async () => {
        for (let round = 0; round < rounds; round += 1) {
          const started = await measured(['run', file, '--detach', '--json'], env, true);
          const runId = (JSON.parse(started.stdout.trim().split('\n').pop() ?? '{}') as { runId: string }).runId;
          const followed = await measured(['logs', runId, '-f'], env);
          const read = await measured(['logs', runId], env);
          follow.push(followed.cpuSeconds);
          followWall.push(followed.wallSeconds);
          once.push(read.cpuSeconds);
          console.log(
            `${store} round ${round + 1}: logs -f ${followed.cpuSeconds.toFixed(2)} s CPU ` +
              `(${followed.wallSeconds.toFixed(1)} s wall), logs once ${read.cpuSeconds.toFixed(2)} s CPU`,
          );
          await removeLogs(store, runId);
        }
      },
    );
  } finally {
    await connection.close();
  }
  return { follow: median(follow), once: median(once), followWall: median(followWall) };
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const megabytes = Number(process.argv[3] ?? 100);
  const stores = (process.argv[4] ?? 'fs,s3').split(',') as ('fs' | 's3')[];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-bench-logs-'));
  const file = path.join(dir, 'loud.yml');
  // 80-byte lines (79 characters and a newline) until `megabytes` MB have been printed.
  const line = 'conveyor log follow benchmark 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKL';
  await writeFile(
    file,
    [
      'name: loud',
      'jobs:',
      '  print:',
      '    steps:',
      '      - name: flood',
      '        image: conveyor/busybox:latest',
      `        script: "yes '${line}' | head -c ${megabytes * 1_000_000}"`,
      '',
    ].join('\n'),
  );
  const results: [string, Awaited<ReturnType<typeof measureStore>>][] = [];
  try {
    for (const store of stores) results.push([store, await measureStore(store, file, rounds)]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`conveyor logs on a step printing ${megabytes} MB, median of ${rounds} rounds (CPU = user + system)`);
  for (const [store, result] of results) {
    console.log(
      `  ${store}: logs -f ${result.follow.toFixed(2)} s CPU (${result.followWall.toFixed(1)} s wall), ` +
        `logs of the finished run ${result.once.toFixed(2)} s CPU, follow / one pass ${(result.follow / result.once).toFixed(2)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
