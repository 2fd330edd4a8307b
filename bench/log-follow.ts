/**
 * CPU spent by `conveyor logs -f RUN` while a step prints 100 MB of output, against one read of the finished log
 * (`conveyor logs RUN`) measured in the same round: a follower that reads only the bytes added since its last read
 * costs about the same as one pass over the finished log; one that rereads whole files on every poll costs far more.
 * CPU times are user + system seconds of the CLI process (from `/usr/bin/time`), median of several rounds.
 * Run: `conveyor dev up`, then `npx tsx bench/log-follow.ts [rounds] [megabytes]`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { slug } from '../activities/names';
import { config, median } from './harness';

const root = path.resolve(__dirname, '..');
const conveyorBin = process.env.CONVEYOR_BENCH_BIN ?? path.join(root, 'bin/conveyor');

interface Usage {
  cpuSeconds: number;
  wallSeconds: number;
  stdout: string;
}

/** Runs a command under `/usr/bin/time` and returns its CPU (user + system) and wall seconds. */
function measured(args: string[], keepStdout = false): Promise<Usage> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %U %S %e', conveyorBin, ...args], {
      cwd: root,
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

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const megabytes = Number(process.argv[3] ?? 100);
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
  const follow: number[] = [];
  const once: number[] = [];
  const followWall: number[] = [];
  try {
    for (let round = 0; round < rounds; round += 1) {
      const started = await measured(['run', file, '--detach', '--json'], true);
      const runId = (JSON.parse(started.stdout.trim().split('\n').pop() ?? '{}') as { runId: string }).runId;
      const followed = await measured(['logs', runId, '-f']);
      const read = await measured(['logs', runId]);
      follow.push(followed.cpuSeconds);
      followWall.push(followed.wallSeconds);
      once.push(read.cpuSeconds);
      console.log(
        `round ${round + 1}: logs -f ${followed.cpuSeconds.toFixed(2)} s CPU (${followed.wallSeconds.toFixed(1)} s wall), ` +
          `logs once ${read.cpuSeconds.toFixed(2)} s CPU`,
      );
      await rm(path.join(config.dataDir, 'runs', slug(runId)), { recursive: true, force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`conveyor logs on a step printing ${megabytes} MB, median of ${rounds} rounds (CPU = user + system)`);
  console.log(
    `  logs -f while the step runs   ${median(follow).toFixed(2)} s CPU, ${median(followWall).toFixed(1)} s wall`,
  );
  console.log(`  logs of the finished run      ${median(once).toFixed(2)} s CPU`);
  console.log(`  follow / one pass             ${(median(follow) / median(once)).toFixed(2)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
