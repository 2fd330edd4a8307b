/**
 * Time from typing `conveyor run` to the first line of step output, on a warm embedded stack (worker running):
 * `bin/conveyor run examples/hello.yml`, measured until its first `[job/step]` line, median of several runs
 * (target < 1.5 s). Against, in the same run: `docker run --rm conveyor/busybox:latest echo` until its output (a
 * raw container start through the Docker CLI), and `bin/conveyor --help` (the CLI's own start-up).
 * Run: `conveyor dev up`, then `npx tsx bench/first-log-line.ts [runs]`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, ms } from './harness';

const root = path.resolve(__dirname, '..');

/** Milliseconds until the command prints a line matching `pattern` (then the command is left to finish). */
function timeToLine(command: string, args: string[], pattern: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let seen = false;
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (!seen && buffer.split('\n').some((line) => pattern.test(line))) {
        seen = true;
        resolve(performance.now() - start);
      }
    });
    child.on('close', (code) => {
      if (!seen) reject(new Error(`${command} ${args.join(' ')} exited ${code} without a matching line:\n${buffer}`));
    });
  });
}

/** Milliseconds until the command exits. */
function timeToExit(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd: root, stdio: 'ignore' });
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`exit ${code}`))));
  });
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const conveyor = path.join(root, 'bin/conveyor');
  const first: number[] = [];
  const raw: number[] = [];
  const cli: number[] = [];
  await timeToLine(conveyor, ['run', 'examples/hello.yml'], /^\[greet\//); // warm-up
  for (let i = 0; i < runs; i += 1) {
    first.push(await timeToLine(conveyor, ['run', 'examples/hello.yml'], /^\[greet\//));
    raw.push(await timeToLine('docker', ['run', '--rm', 'conveyor/busybox:latest', 'echo', 'hello'], /^hello$/));
    cli.push(await timeToExit(conveyor, ['--help']));
  }
  console.log(`time to first log line on a warm stack, median of ${runs} runs`);
  console.log(`  conveyor run examples/hello.yml   ${ms(median(first))}`);
  console.log(
    `  docker run --rm busybox echo      ${ms(median(raw))}  (conveyor / docker: ${(median(first) / median(raw)).toFixed(2)})`,
  );
  console.log(`  conveyor --help (CLI start-up)    ${ms(median(cli))}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
