/**
 * Source checkout (docs/triggers.md): a 10,000-file repository reaching 10 jobs. Conveyor archives the commit once,
 * stores it in the configured artifact store (the stack's MinIO) and extracts it, digest-verified, into 10 job
 * workspaces (Docker volumes, through the Docker API) — against the baseline measured in the same run: `git clone`
 * of the same repository (over `file://`, git's pack transport) 10 times, as a clone per job would. Jobs run in
 * parallel on both sides. Prints medians and the ratio; never asserts. Removes every volume, container, object
 * and directory it made.
 *
 *   npx tsx bench/checkout.ts [rounds] [files]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import Docker from 'dockerode';
import { ArtifactCatalog } from '../activities/artifacts/catalog';
import { workspaceVolumeName } from '../activities/names';
import { GitRepositories } from '../activities/source/repositories';
import { createSourceActivities, sourceHolder } from '../activities/source/source-activities';
import type { SourceArchive } from '../pipeline/source';
import { loadConfig } from '../workers/config';
import { createStoreFromConfig, scratchDir } from '../workers/stores';
import { median, timed } from './harness';

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 5);
const fileCount = Number(process.argv[3] ?? 10_000);
const jobs = 10;

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@conveyor.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@conveyor.invalid',
};
const git = (cwd: string, ...args: string[]) =>
  run('git', ['-C', cwd, ...args], { env: gitEnv, maxBuffer: 64 * 1024 * 1024 }).then((out) => out.stdout.trim());

/** A repository of `files` small source files in 100 directories, one commit. */
async function makeRepository(root: string, files: number): Promise<string> {
  const repo = path.join(root, 'repo');
  await mkdir(repo, { recursive: true });
  for (let index = 0; index < files; index += 1) {
    const dir = path.join(repo, 'src', `module-${String(index % 100).padStart(2, '0')}`);
    if (index < 100) await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, `file-${index}.js`),
      `// file ${index}\nexport function f${index}(x) {\n  return x * ${index} + ${index % 7};\n}\n`,
    );
  }
  await git(repo, 'init', '--quiet', '--initial-branch=main');
  await git(repo, 'add', '--all');
  await git(repo, 'commit', '--quiet', '-m', 'Ten thousand files');
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
  try {
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
    let archive: SourceArchive | undefined;
    for (let round = 0; round < rounds; round += 1) {
      const runId = `bench-checkout-${process.pid}-${round}`;
      runIds.push(runId);
      conveyorTimes.push(
        await timed(async () => {
          const made = (await env().run(activities.archiveSource, {
            runId,
            repository: repo,
            commit,
          })) as SourceArchive;
          archive = made;
          archives.add(made.digest.slice(7));
          await Promise.all(
            Array.from({ length: jobs }, (_, index) => {
              volumes.push(workspaceVolumeName(runId, `job-${index}`, 1));
              return env().run(activities.extractSource, {
                runId,
                job: `job-${index}`,
                jobAttempt: 1,
                archive: made,
                path: '',
              });
            }),
          );
        }),
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
      await rm(clones, { recursive: true, force: true });
      // Each round starts from empty workspaces.
      await removeVolumes(docker, volumes.splice(0));
      console.log(
        `round ${round + 1}: archive + store + extract into ${jobs} jobs ${conveyorTimes.at(-1)!.toFixed(0)} ms; ` +
          `git clone × ${jobs} ${cloneTimes.at(-1)!.toFixed(0)} ms`,
      );
    }
    const ours = median(conveyorTimes);
    const baseline = median(cloneTimes);
    console.log(
      `\n${fileCount} files, ${(archive!.size / 1024 / 1024).toFixed(1)} MiB archive, ${jobs} jobs, median of ${rounds}:`,
    );
    console.log(`  source archive once + verified extraction into ${jobs} workspaces: ${ours.toFixed(0)} ms`);
    console.log(`  git clone per job (${jobs} clones, same run):                      ${baseline.toFixed(0)} ms`);
    console.log(`  ratio: ${(baseline / ours).toFixed(2)}× faster than cloning per job`);
  } finally {
    await removeVolumes(docker, volumes);
    const catalog = new ArtifactCatalog(store);
    for (const digest of archives) {
      for (const runId of runIds) await catalog.removeReference(digest, sourceHolder(runId));
      await store.deleteContent(digest);
    }
    await rm(root, { recursive: true, force: true });
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
