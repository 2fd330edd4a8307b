/**
 * Source checkout (docs/triggers.md): a 10,000-file repository reaching 10 jobs. Conveyor archives the commit once,
 * stores it in the configured artifact store (the stack's MinIO) and extracts it, digest-verified, into 10 job
 * workspaces (Docker volumes, through the Docker API) — against the baseline measured in the same run: `git clone`
 * of the same repository (over `file://`, git's pack transport) 10 times, as a clone per job would. Jobs run in
 * parallel on both sides. Prints medians, the ratio, and where Conveyor's time went (docs/benchmarks.md, "Source
 * checkout: where the time went"); never asserts. Removes every volume, container, object and directory it made,
 * also when interrupted.
 *
 *   npx tsx bench/checkout.ts [--runs 3] [--files 10000] [--jobs 10] [--floor]
 *
 * `--floor` also times creating as many empty files, one process per job: the cost both sides cannot avoid.
 * `CONVEYOR_WORKSPACE_IO=direct` (entry by entry from Node) or `=archive` (Docker's archive API) measures the
 * slower ways instead of the system tar; the output says which way the extraction went.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import Docker from 'dockerode';
import { ArtifactCatalog } from '../activities/artifacts/catalog';
import { workspaceVolumeName } from '../activities/names';
import { GitRepositories } from '../activities/source/repositories';
import { performance } from 'node:perf_hooks';
import { createSourceActivities, sourceHolder, type ExtractedSource } from '../activities/source/source-activities';
import type { SourceArchive } from '../pipeline/source';
import { loadConfig } from '../workers/config';
import { createStoreFromConfig, scratchDir } from '../workers/stores';
import { median, timed } from './harness';

const run = promisify(execFile);
const flag = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index > 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive whole number`);
  return value;
};
const rounds = flag('runs', 3);
const fileCount = flag('files', 10_000);
const jobs = flag('jobs', 10);
const floor = process.argv.includes('--floor');

/** A script creating `files` empty files in 100 directories under a directory (argv[1], argv[2]). */
const createEmptyFiles = `
const fs = require('node:fs');
const [root, files] = [process.argv[1], Number(process.argv[2])];
for (let d = 0; d < 100; d += 1) fs.mkdirSync(root + '/m' + d, { recursive: true });
for (let i = 0; i < files; i += 1) fs.closeSync(fs.openSync(root + '/m' + (i % 100) + '/f' + i, 'wx'));
`;

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@conveyor.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@conveyor.invalid',
};
const git = (cwd: string, ...args: string[]) =>
  run('git', ['-C', cwd, ...args], { env: gitEnv, maxBuffer: 64 * 1024 * 1024 }).then((out) => out.stdout.trim());

/**
 * A repository of `files` small source files in 100 directories, one commit — written with `git fast-import`, so
 * making it creates no work tree (on this machine creating a file costs far more than writing it).
 */
async function makeRepository(root: string, files: number): Promise<string> {
  const repo = path.join(root, 'repo');
  await mkdir(repo, { recursive: true });
  await git(repo, 'init', '--quiet', '--initial-branch=main');
  const lines = ['commit refs/heads/main', 'committer Bench <bench@conveyor.invalid> 1700000000 +0000'];
  const message = 'Ten thousand files';
  lines.push(`data ${Buffer.byteLength(message)}`, message);
  for (let index = 0; index < files; index += 1) {
    const dir = `src/module-${String(index % 100).padStart(2, '0')}`;
    const body = `// file ${index}\nexport function f${index}(x) {\n  return x * ${index} + ${index % 7};\n}\n`;
    lines.push(`M 100644 inline ${dir}/file-${index}.js`, `data ${Buffer.byteLength(body)}`, body);
  }
  await new Promise<void>((resolve, reject) => {
    const child = execFile('git', ['-C', repo, 'fast-import', '--quiet'], { env: gitEnv }, (error) =>
      error ? reject(error) : resolve(),
    );
    child.stdin!.end(`${lines.join('\n')}\n`);
  });
  return repo;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const docker = new Docker();
  const store = createStoreFromConfig(config);
  const root = await mkdtemp(path.join(tmpdir(), 'conveyor-bench-checkout-'));
  const volumes: string[] = [];
  const archives = new Set<string>();
  const runIds: string[] = [];
  const cleanup = async () => {
    await removeVolumes(docker, volumes.splice(0));
    const catalog = new ArtifactCatalog(store);
    for (const digest of archives) {
      for (const runId of runIds) await catalog.removeReference(digest, sourceHolder(runId));
      await store.deleteContent(digest);
    }
    archives.clear();
    await rm(root, { recursive: true, force: true });
  };
  // An interrupted bench leaves nothing behind either.
  const interrupted = () => {
    console.error('\ninterrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    console.log(
      `load average at the start: ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')}`,
    );
    const repo = await makeRepository(root, fileCount);
    const commit = await git(repo, 'rev-parse', 'HEAD');
    const activities = createSourceActivities({
      repositories: new GitRepositories({ cacheDir: path.join(root, 'cache') }),
      defaultImage: config.defaultImage,
      store,
      docker,
      spoolDir: scratchDir(config),
    });
    const env = () => new MockActivityEnvironment({ heartbeatTimeoutMs: 600_000 });
    const conveyorTimes: number[] = [];
    const cloneTimes: number[] = [];
    const floorTimes: number[] = [];
    const phases: Record<string, number[]> = {};
    const record = (phase: string, ms: number) => (phases[phase] ??= []).push(ms);
    const ways = new Set<string>();
    let archive: SourceArchive | undefined;
    for (let round = 0; round < rounds; round += 1) {
      const runId = `bench-checkout-${process.pid}-${round}`;
      runIds.push(runId);
      const results: ExtractedSource[] = [];
      conveyorTimes.push(
        await timed(async () => {
          const archiving = performance.now();
          const made = (await env().run(activities.archiveSource, {
            runId,
            repository: repo,
            commit,
          })) as SourceArchive;
          record('archive: git archive + upload, hashed (once)', performance.now() - archiving);
          archive = made;
          archives.add(made.digest.slice(7));
          results.push(
            ...(await Promise.all(
              Array.from({ length: jobs }, (_, index) => {
                volumes.push(workspaceVolumeName(runId, `job-${index}`, 1));
                return env().run(activities.extractSource, {
                  runId,
                  job: `job-${index}`,
                  jobAttempt: 1,
                  archive: made,
                  path: '',
                }) as Promise<ExtractedSource>;
              }),
            )),
          );
        }),
      );
      for (const result of results) ways.add(result.via);
      const each = (pick: (result: ExtractedSource) => number) => median(results.map(pick));
      const once = (pick: (result: ExtractedSource) => number) => Math.max(...results.map(pick));
      record(
        'per job: workspace volume (median)',
        each((result) => result.timings.workspaceMs),
      );
      record(
        'download + SHA-256 verify (once per worker)',
        once((result) => result.timings.fetchMs),
      );
      record(
        'entry safety check (once per worker)',
        once((result) => result.timings.checkMs),
      );
      record(
        'per job: extraction (median)',
        each((result) => result.timings.extractMs),
      );
      record(
        'per job: extraction (slowest)',
        once((result) => result.timings.extractMs),
      );
      const clones = path.join(root, `clones-${round}`);
      cloneTimes.push(
        await timed(() =>
          Promise.all(
            Array.from({ length: jobs }, (_, index) =>
              run('git', ['clone', '--quiet', `file://${repo}`, path.join(clones, `job-${index}`)], { env: gitEnv }),
            ),
          ),
        ),
      );
      if (floor) {
        // What both sides pay at least: creating as many empty files and directories, one process per job.
        const empties = path.join(root, `floor-${round}`);
        floorTimes.push(
          await timed(() =>
            Promise.all(
              Array.from({ length: jobs }, (_, index) =>
                run(process.execPath, ['-e', createEmptyFiles, path.join(empties, `job-${index}`), String(fileCount)]),
              ),
            ),
          ),
        );
        await rm(empties, { recursive: true, force: true });
      }
      console.log(
        `round ${round + 1}: archive + store + extract into ${jobs} jobs ${conveyorTimes.at(-1)!.toFixed(0)} ms; ` +
          `git clone × ${jobs} ${cloneTimes.at(-1)!.toFixed(0)} ms` +
          (floor ? `; ${jobs} × ${fileCount} empty files ${floorTimes.at(-1)!.toFixed(0)} ms` : ''),
      );
      // Each round starts from empty workspaces (removing 20 trees of files takes a while; it is not timed).
      await rm(clones, { recursive: true, force: true });
      await removeVolumes(docker, volumes.splice(0));
    }
    const ours = median(conveyorTimes);
    const baseline = median(cloneTimes);
    console.log(
      `\n${fileCount} files, ${(archive!.size / 1024 / 1024).toFixed(1)} MiB archive, ${jobs} jobs, median of ${rounds}, ` +
        `extracted via ${[...ways].join(', ')}:`,
    );
    console.log(`  source archive once + verified extraction into ${jobs} workspaces: ${ours.toFixed(0)} ms`);
    console.log(`  git clone per job (${jobs} clones, same run):                      ${baseline.toFixed(0)} ms`);
    console.log(`  ratio: ${(baseline / ours).toFixed(2)}× faster than cloning per job`);
    if (floor) {
      console.log(
        `  floor: ${jobs} × ${fileCount} empty files in 100 directories (same run):    ${median(floorTimes).toFixed(0)} ms`,
      );
    }
    console.log(`\nwhere Conveyor's time went (median of ${rounds} rounds; jobs run in parallel):`);
    for (const [phase, values] of Object.entries(phases)) {
      console.log(`  ${phase.padEnd(48)} ${median(values).toFixed(0).padStart(7)} ms`);
    }
    console.log(
      `load average at the end: ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
    await cleanup();
  }
}

async function removeVolumes(docker: Docker, names: string[]): Promise<void> {
  for (const name of names) {
    await docker
      .getVolume(name)
      .remove()
      .catch(() => undefined);
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
