/**
 * Source checkout (docs/triggers.md): a 10,000-file repository reaching 10 jobs. Conveyor archives the commit once,
 * stores it in the configured artifact store (the stack's MinIO) and checks it out, digest-verified, into 10 job
 * workspaces — against the baseline measured in the same run: `git clone` of the same repository (over `file://`,
 * git's pack transport) 10 times, as a clone per job would. Each round measures, one after the other under the same
 * load, both ways Conveyor has: overlay workspaces (one shared tree per host, docs/triggers.md "Overlay workspaces")
 * and the fallback, extraction into every workspace. Jobs run in parallel on all sides; every way starts from nothing
 * (no workspace, no tree on the host). Prints medians, the ratios, and where Conveyor's time went
 * (docs/benchmarks.md); never asserts. Removes every volume, layer, tree, container, object and directory it made,
 * also when interrupted.
 *
 *   npx tsx bench/checkout.ts [--runs 3] [--files 10000] [--jobs 10] [--floor]
 *
 * `--floor` also times creating as many empty files, one process per job: the cost a per-job checkout cannot avoid.
 * `CONVEYOR_WORKSPACE_IO=direct` (entry by entry from Node) or `=archive` (Docker's archive API) measures the
 * slower ways instead of the system tar (and turns overlays off); the output says which way the checkout went.
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
import { SourceTrees } from '../activities/source/source-trees';
import { overlayLayerOf, releaseOverlayLayer } from '../activities/workspace-overlay';
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
  const trees = new SourceTrees(path.join(root, 'trees'));
  const serialTrees = new SourceTrees(path.join(root, 'trees-one-tar'), undefined, 1);
  const cleanup = async () => {
    await removeVolumes(docker, volumes.splice(0));
    await trees.sweep(docker, 0).catch(() => undefined);
    await serialTrees.sweep(docker, 0).catch(() => undefined);
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
    const activitiesFor = (overlay?: SourceTrees) =>
      createSourceActivities({
        repositories: new GitRepositories({ cacheDir: path.join(root, 'cache') }),
        defaultImage: config.defaultImage,
        store,
        docker,
        spoolDir: scratchDir(config),
        ...(overlay ? { trees: overlay } : {}),
      });
    const ways = {
      overlay: activitiesFor(trees),
      'overlay-one-tar': activitiesFor(serialTrees),
      extract: activitiesFor(),
    };
    const env = () => new MockActivityEnvironment({ heartbeatTimeoutMs: 600_000 });
    const times: Record<keyof typeof ways, number[]> = { overlay: [], 'overlay-one-tar': [], extract: [] };
    const cloneTimes: number[] = [];
    const floorTimes: number[] = [];
    const phases: Record<string, number[]> = {};
    const record = (phase: string, ms: number) => (phases[phase] ??= []).push(ms);
    const vias = new Set<string>();
    let archive: SourceArchive | undefined;
    /** Archive + store + checkout into `jobs` workspaces, one way; its phases recorded under `label`. */
    const conveyorRound = async (way: keyof typeof ways, runId: string) => {
      const activities = ways[way];
      const results: ExtractedSource[] = [];
      runIds.push(runId);
      const total = await timed(async () => {
        const archiving = performance.now();
        const made = (await env().run(activities.archiveSource, {
          runId,
          repository: repo,
          commit,
        })) as SourceArchive;
        record(`${way}: archive: git archive + upload, hashed (once)`, performance.now() - archiving);
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
      });
      times[way].push(total);
      for (const result of results) vias.add(result.via);
      const each = (pick: (result: ExtractedSource) => number) => median(results.map(pick));
      const once = (pick: (result: ExtractedSource) => number) => Math.max(...results.map(pick));
      record(
        `${way}: per job: workspace volume (median)`,
        each((result) => result.timings.workspaceMs),
      );
      record(
        `${way}: download + SHA-256 verify (once per worker)`,
        once((result) => result.timings.fetchMs),
      );
      if (way === 'extract') {
        record(
          `${way}: entry safety check (once per worker)`,
          once((result) => result.timings.checkMs),
        );
        record(
          `${way}: per job: extraction (median)`,
          each((result) => result.timings.extractMs),
        );
        record(
          `${way}: per job: extraction (slowest)`,
          once((result) => result.timings.extractMs),
        );
      } else {
        record(
          `${way}: shared tree: check + extract, one pass (once)`,
          once((result) => result.timings.extractMs),
        );
        record(
          `${way}: per job: waiting for the shared tree (median)`,
          each((result) => result.timings.waitMs),
        );
      }
      return total;
    };
    for (let round = 0; round < rounds; round += 1) {
      // The ways alternate inside each round (same load), each from nothing: no workspace, no tree on the host.
      const overlayMs = await conveyorRound('overlay', `bench-checkout-${process.pid}-${round}-overlay`);
      await removeVolumes(docker, volumes.splice(0));
      await trees.sweep(docker, 0);
      const serialMs = await conveyorRound('overlay-one-tar', `bench-checkout-${process.pid}-${round}-serial`);
      await removeVolumes(docker, volumes.splice(0));
      await serialTrees.sweep(docker, 0);
      const extractMs = await conveyorRound('extract', `bench-checkout-${process.pid}-${round}-extract`);
      await removeVolumes(docker, volumes.splice(0));
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
        `round ${round + 1}: archive + store + checkout into ${jobs} jobs: overlay ${overlayMs.toFixed(0)} ms ` +
          `(one tar: ${serialMs.toFixed(0)} ms), ` +
          `extraction per job ${extractMs.toFixed(0)} ms; git clone × ${jobs} ${cloneTimes.at(-1)!.toFixed(0)} ms` +
          (floor ? `; ${jobs} × ${fileCount} empty files ${floorTimes.at(-1)!.toFixed(0)} ms` : ''),
      );
      // Each round starts from nothing (removing 20 trees of files takes a while; it is not timed).
      await rm(clones, { recursive: true, force: true });
    }
    const baseline = median(cloneTimes);
    console.log(
      `\n${fileCount} files, ${(archive!.size / 1024 / 1024).toFixed(1)} MiB archive, ${jobs} jobs, median of ${rounds}, ` +
        `checked out via ${[...vias].join(', ')}:`,
    );
    for (const [way, label] of [
      ['overlay', 'overlay workspaces (one shared tree per host)'],
      ['overlay-one-tar', 'the same, the tree extracted by one tar'],
      ['extract', 'extraction into every workspace (the fallback)'],
    ] as const) {
      const ours = median(times[way]);
      console.log(
        `  ${label.padEnd(48)} ${ours.toFixed(0).padStart(7)} ms: ${(baseline / ours).toFixed(2)}× faster than cloning`,
      );
    }
    console.log(`  ${`git clone per job (${jobs} clones, same run)`.padEnd(48)} ${baseline.toFixed(0).padStart(7)} ms`);
    if (floor) {
      console.log(
        `  ${`floor: ${jobs} × ${fileCount} empty files`.padEnd(48)} ${median(floorTimes).toFixed(0).padStart(7)} ms`,
      );
    }
    console.log(`\nwhere Conveyor's time went (median of ${rounds} rounds; jobs run in parallel):`);
    for (const [phase, values] of Object.entries(phases)) {
      console.log(`  ${phase.padEnd(62)} ${median(values).toFixed(0).padStart(7)} ms`);
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
    const layer = await overlayLayerOf(docker, name).catch(() => undefined);
    await docker
      .getVolume(name)
      .remove()
      .catch(() => undefined);
    await releaseOverlayLayer(layer);
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
