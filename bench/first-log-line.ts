/**
 * Time from typing `conveyor run` to the first line of step output, on a warm embedded stack (worker running):
 * `bin/conveyor run examples/hello.yml`, measured until its `run … started` line (the CLI's start-up, parsing and
 * the workflow start) and until its first `[job/step]` line, median of several runs (target ≤ 1.0 s). Against, in
 * the same run: `docker run --rm conveyor/busybox:latest echo` until its output (a raw container start through the
 * Docker CLI). And `bin/conveyor --help` (target ≤ 300 ms) against `node -e 0` (Node.js's own start-up). When
 * CONVEYOR_BENCH_COMPARE_BIN names another checkout's `bin/conveyor` (e.g. main's, in a temporary clone), its `run`
 * and `--help` are timed too, alternating with this checkout's in every round, against the same stack.
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

/** Milliseconds until the command prints a line matching each pattern, in order. */
async function timeToLines(command: string, args: string[], patterns: RegExp[]): Promise<number[]> {
  const times: number[] = [];
  const start = performance.now();
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      while (times.length < patterns.length && lines.some((line) => patterns[times.length]!.test(line))) {
        times.push(performance.now() - start);
      }
      if (times.length === patterns.length) resolve();
    });
    child.on('close', (code) => {
      if (times.length < patterns.length)
        reject(new Error(`${command} exited ${code} before ${patterns[times.length]}`));
    });
  });
  return times;
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
  const runs = Number(process.argv[2] ?? 7);
  const conveyor = path.join(root, 'bin/conveyor');
  const compare = process.env.CONVEYOR_BENCH_COMPARE_BIN;
  const started: number[] = [];
  const first: number[] = [];
  const raw: number[] = [];
  const help: number[] = [];
  const node: number[] = [];
  const compareHelp: number[] = [];
  const compareStarted: number[] = [];
  const compareFirst: number[] = [];
  const timeRun = (bin: string) =>
    timeToLines(bin, ['run', 'examples/hello.yml'], [/^run \S+ started/, /^\[greet\//]) as Promise<[number, number]>;
  await timeToLine(conveyor, ['run', 'examples/hello.yml'], /^\[greet\//); // warm-up
  if (compare) await timeToLine(compare, ['run', 'examples/hello.yml'], /^\[greet\//);
  for (let i = 0; i < runs; i += 1) {
    const [toStart, toFirst] = await timeRun(conveyor);
    started.push(toStart);
    first.push(toFirst);
    if (compare) {
      const [compareToStart, compareToFirst] = await timeRun(compare);
      compareStarted.push(compareToStart);
      compareFirst.push(compareToFirst);
    }
    raw.push(await timeToLine('docker', ['run', '--rm', 'conveyor/busybox:latest', 'echo', 'hello'], /^hello$/));
    help.push(await timeToExit(conveyor, ['--help']));
    node.push(await timeToExit(process.execPath, ['-e', '0']));
    if (compare) compareHelp.push(await timeToExit(compare, ['--help']));
  }
  const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
  console.log(`time to first log line on a warm stack, median of ${runs} runs`);
  console.log(`  conveyor run examples/hello.yml: run started   ${ms(median(started))}`);
  console.log(`  conveyor run examples/hello.yml: first line    ${ms(median(first))}`);
  console.log(
    `  docker run --rm busybox echo                   ${ms(median(raw))}  (first line / docker: ${ratio(first, raw)})`,
  );
  console.log(`CLI start-up, median of ${runs} runs`);
  console.log(`  conveyor --help                                ${ms(median(help))}`);
  console.log(
    `  node -e 0                                      ${ms(median(node))}  (conveyor --help / node: ${ratio(help, node)})`,
  );
  if (compare) {
    console.log(`${compare}, alternating with this checkout's in each round, median of ${runs} runs`);
    console.log(
      `  run examples/hello.yml: run started   ${ms(median(compareStarted))}  (this / that: ${ratio(started, compareStarted)})`,
    );
    console.log(
      `  run examples/hello.yml: first line    ${ms(median(compareFirst))}  (this / that: ${ratio(first, compareFirst)})`,
    );
    console.log(
      `  --help                                ${ms(median(compareHelp))}  (this / that: ${ratio(help, compareHelp)})`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
