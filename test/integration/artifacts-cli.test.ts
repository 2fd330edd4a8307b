/**
 * `conveyor run --json`, `status --json` and `conveyor artifacts …` as a user meets them, against the embedded
 * stack (its worker and its MinIO: the default a newcomer runs).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { contentKey } from '../../activities/store/store';
import { createS3Client } from '../../activities/s3';
import { conveyor, lastJsonLine } from '../helpers/cli';
import { runResult, waitForRunningStep } from '../helpers/runs';
import { eventually } from '../helpers/server';
import { closeTestEnvironment, config, docker, testEnvironment } from '../helpers/temporal';

let dir = '';

interface Summary {
  runId: string;
  status: string;
  jobs: Record<string, { status: string; artifacts: Record<string, { digest: string; size: number; files: number }> }>;
}

describe('conveyor artifacts (embedded stack)', () => {
  const pipelineName = `cli-artifacts-${randomUUID().slice(0, 8)}`;
  let runId = '';
  let digest = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-artifacts-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await closeTestEnvironment();
  });

  it('run --json and status --json show each job’s artifacts with digest, size and file count', async () => {
    const file = path.join(dir, 'site.yml');
    await writeFile(
      file,
      [
        `name: ${pipelineName}`,
        'jobs:',
        '  build:',
        '    image: conveyor/busybox:latest',
        '    steps:',
        '      - name: render',
        // The pipeline's name makes the content (and so the digest) this test's own: lineage and scrub findings
        // are per digest, and earlier runs of this test stored the same files otherwise.
        `        script: ["mkdir -p site/css", "echo '<h1>${pipelineName}</h1>' > site/index.html", "echo 'h1{}' > site/css/a.css"]`,
        '    artifacts:',
        '      site: site',
        '  publish:',
        '    needs: [build]',
        '    image: conveyor/busybox:latest',
        '    steps:',
        '      - name: show',
        '        script: ["cat site/index.html"]',
      ].join('\n'),
    );
    const run = await conveyor(['run', file, '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(`\\[publish/show\\] <h1>${pipelineName}</h1>`),
      'with --json, the output goes to stderr',
    );
    const summary = lastJsonLine<Summary>(run.stdout);
    runId = summary.runId;
    const site = summary.jobs.build!.artifacts.site!;
    assert.match(site.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(site.files, 2);
    assert.ok(site.size >= 2048);
    assert.deepEqual(summary.jobs.publish!.artifacts, {});
    digest = site.digest;
    const status = await conveyor(['status', runId, '--json']);
    assert.deepEqual(lastJsonLine<Summary>(status.stdout).jobs.build!.artifacts, summary.jobs.build!.artifacts);
    const human = await conveyor(['status', runId]);
    assert.match(human.stdout, new RegExp(`artifact site: ${digest.slice(0, 19)}… \\d+ bytes, 2 files`));
  });

  it('ls lists a run’s and a pipeline’s artifacts; get verifies and extracts, by run or as the pipeline’s latest', async () => {
    const listed = await conveyor(['artifacts', 'ls', runId, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const [entry] = JSON.parse(listed.stdout) as {
      name: string;
      job: string;
      digest: string;
      consumers: { job: string }[];
    }[];
    assert.deepEqual([entry?.name, entry?.job, entry?.digest], ['site', 'build', digest]);
    assert.deepEqual(
      entry?.consumers.map((c) => c.job),
      ['publish'],
    );
    const byPipeline = await conveyor(['artifacts', 'ls', '--pipeline', pipelineName]);
    assert.match(byPipeline.stdout, new RegExp(`^site {2}build {2}${runId} {2}sha256:`, 'm'));

    const out = path.join(dir, 'fetched');
    const got = await conveyor(['artifacts', 'get', runId, 'site', '-o', out, '--json']);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout).files, 2);
    assert.equal(await readFile(path.join(out, 'site/index.html'), 'utf8'), `<h1>${pipelineName}</h1>\n`);
    const latest = path.join(dir, 'latest');
    const viaPipeline = await conveyor([
      'artifacts',
      'get',
      '--pipeline',
      pipelineName,
      'site',
      '--latest',
      '-o',
      latest,
    ]);
    assert.equal(viaPipeline.code, 0, viaPipeline.stderr);
    assert.match(viaPipeline.stdout, /site \(sha256:[0-9a-f]{12}…, verified\): 2 files into /);
    assert.deepEqual((await readdir(path.join(latest, 'site'))).sort(), ['css', 'index.html']);

    const notEmpty = await conveyor(['artifacts', 'get', runId, 'site', '-o', out]);
    assert.equal(notEmpty.code, 1);
    assert.match(notEmpty.stderr, /is not empty; extract into a new or empty directory/);
    const unknown = await conveyor(['artifacts', 'get', runId, 'nope']);
    assert.match(unknown.stderr, new RegExp(`run ${runId} has no artifact 'nope' \\(it has: site\\)`));
  });

  it('pin and unpin protect an artifact; stats shows the quota and pressure; gc --dry-run says what it would delete', async () => {
    const pinned = await conveyor(['artifacts', 'pin', runId, 'site', '--json']);
    assert.deepEqual(JSON.parse(pinned.stdout), { digest, pinned: true });
    const listed = JSON.parse((await conveyor(['artifacts', 'ls', runId, '--json'])).stdout) as { pinned: boolean }[];
    assert.equal(listed[0]?.pinned, true);
    assert.equal((await conveyor(['artifacts', 'unpin', digest])).code, 0);
    const again = await conveyor(['artifacts', 'unpin', digest]);
    assert.match(again.stderr, /is not pinned/);

    const stats = JSON.parse((await conveyor(['artifacts', 'stats', '--json'])).stdout) as Record<string, unknown>;
    assert.equal(typeof stats.bytes, 'number');
    assert.equal(typeof stats.usedPercent, 'number');
    assert.match(String(stats.level), /^(green|yellow|orange|red|critical)$/);
    const dryRun = await conveyor(['artifacts', 'gc', '--dry-run', '--json']);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    const plan = JSON.parse(dryRun.stdout) as { deletions: { name: string }[] };
    assert.ok(!plan.deletions.some((deletion) => deletion.name === 'site'), 'a fresh artifact is young');
  });

  it('gc runs a cycle through the retention schedule and reports it', async () => {
    const gc = await conveyor(['artifacts', 'gc', '--json'], { timeoutMs: 300_000 });
    assert.equal(gc.code, 0, gc.stderr);
    const result = JSON.parse(gc.stdout) as { cycles: { result: { deletedRecords: number } }[] };
    assert.ok(result.cycles.length >= 1);
    const listed = JSON.parse((await conveyor(['artifacts', 'ls', runId, '--json'])).stdout) as unknown[];
    assert.equal(listed.length, 1, 'the young artifact survived the cycle');
  });

  it('a byte flipped between producer and consumer fails the consumer artifact_corrupted; once repaired, rerun --failed runs only it, with the producer’s artifact', async () => {
    const file = path.join(dir, 'rerun.yml');
    await writeFile(
      file,
      [
        `name: ${pipelineName}-rerun`,
        'jobs:',
        '  build:',
        '    image: conveyor/busybox:latest',
        '    steps:',
        '      - name: make',
        // Random bytes: a producer that ran again could not give the same digest.
        '        script: ["mkdir -p pkg", "head -c 4096 /dev/urandom > pkg/blob", "sha256sum pkg/blob > pkg.sha256", "echo producer ran"]',
        '    artifacts:',
        '      pkg: [pkg, pkg.sha256]',
        // Holds the consumer back until the test has corrupted the producer's object.
        '  gate:',
        '    image: conveyor/busybox:latest',
        '    steps:',
        '      - name: hold',
        '        script: ["timeout 600 sh -c \'until [ -e /workspace/go ]; do sleep 0.2; done\'"]',
        '  check:',
        '    needs: [build, gate]',
        '    image: conveyor/busybox:latest',
        '    steps:',
        '      - name: verify',
        '        script: ["sha256sum -c pkg.sha256"]',
      ].join('\n'),
    );
    const started = await conveyor(['run', file, '--detach', '--json']);
    assert.equal(started.code, 0, started.stderr);
    const { runId: first } = lastJsonLine<{ runId: string }>(started.stdout);
    const pkg = await eventually(
      'the producer stored its artifact',
      async () => {
        const listed = await conveyor(['artifacts', 'ls', first, '--json']);
        return (JSON.parse(listed.stdout) as { name: string; digest: string }[]).find((a) => a.name === 'pkg');
      },
      300_000,
    );
    const restore = await flipByte(pkg.digest, 100);
    try {
      const gate = await waitForRunningStep(first, 'hold', 300_000);
      const touch = await docker.getContainer(gate).exec({ Cmd: ['touch', '/workspace/go'] });
      // A detached start answers once the command runs; its connection is closed here, or it can keep this test's
      // process alive after the last test (the engine does not always close it).
      (await touch.start({ Detach: true })).destroy();
      const env = await testEnvironment();
      const failed = await runResult(env.client.workflow.getHandle(first));
      assert.equal(failed.status, 'failed');
      assert.equal(failed.jobs.check!.reason, 'artifact_corrupted');
      assert.match(failed.jobs.check!.message ?? '', new RegExp(`expected ${pkg.digest.slice(0, 23)}…`));
      assert.deepEqual(
        failed.jobs.check!.steps.map((step) => step.status),
        ['skipped'],
        'no step of the consumer ran',
      );
      const scrub = await conveyor(['artifacts', 'verify', '--all'], { timeoutMs: 300_000 });
      assert.equal(scrub.code, 1);
      assert.match(
        scrub.stdout,
        new RegExp(`^corrupted  ${pkg.digest}  artifact 'pkg' of job 'build' in run ${first}`, 'm'),
      );
    } finally {
      await restore();
    }

    const rerun = await conveyor(['rerun', first, '--failed', '--json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    const again = lastJsonLine<Summary>(rerun.stdout);
    assert.notEqual(again.runId, first);
    assert.equal(again.jobs.check!.status, 'success');
    assert.deepEqual(again.jobs.build!.artifacts.pkg?.digest, pkg.digest, 'the recorded artifact, not a new one');
    assert.match(rerun.stderr, /\[check\/verify\] pkg\/blob: OK/);
    assert.doesNotMatch(rerun.stderr, /producer ran/, 'the producer is not executed again');
  });

  it('verify exits 1 naming a corrupted object, and 0 once it is repaired', async () => {
    const restore = await flipByte(digest, 600);
    try {
      const all = await conveyor(['artifacts', 'verify', '--all'], { timeoutMs: 300_000 });
      assert.equal(all.code, 1);
      assert.match(
        all.stdout,
        new RegExp(`^corrupted  ${digest}  artifact 'site' of job 'build' in run ${runId}`, 'm'),
      );
      const one = await conveyor(['artifacts', 'verify', runId, '--json']);
      assert.equal(one.code, 1);
      assert.equal(JSON.parse(one.stdout).findings[0].kind, 'corrupted');
      const refused = await conveyor(['artifacts', 'get', runId, 'site', '-o', path.join(dir, 'refused')]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /artifact 'site' of job 'build' is corrupted/);
      await assert.rejects(stat(path.join(dir, 'refused', 'site')));
    } finally {
      await restore();
    }
    assert.equal((await conveyor(['artifacts', 'verify', runId])).code, 0);
  });
});

/** Flips one bit of a stored object in the stack's MinIO behind the store's back; returns how to undo it. */
async function flipByte(digest: string, at: number): Promise<() => Promise<void>> {
  const client = createS3Client(config.s3);
  const key = contentKey(digest.slice(7));
  const chunks: Buffer[] = [];
  for await (const chunk of await client.getObject(config.s3.bucket, key)) chunks.push(chunk as Buffer);
  const original = Buffer.concat(chunks);
  const flipped = Buffer.from(original);
  flipped[at] = flipped[at]! ^ 0x20;
  await client.putObject(config.s3.bucket, key, flipped, flipped.length);
  return async () => {
    await client.putObject(config.s3.bucket, key, original, original.length);
  };
}
