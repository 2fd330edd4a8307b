/**
 * Retention end to end (docs/artifacts.md): the Temporal Schedule exists, and a cycle of the `artifactRetention`
 * workflow on a store seeded with artifacts of mixed ages, references and pins deletes exactly the right ones —
 * keeping the one a running job is using — and audits every decision.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import tar from 'tar-stream';
import { ArtifactCatalog, jobHolder, pinHolder, type ArtifactRecord } from '../../activities/artifacts/catalog';
import { applyRetentionPlan, planRetentionCycle, type RetentionPlan } from '../../activities/artifacts/retention';
import { contentKey, formatDigest } from '../../activities/store/store';
import { artifactSettings } from '../../config/artifacts-config';
import { ensureRetentionSchedule, retentionScheduleId } from '../../workers/retention-schedule';
import type { ArtifactRetentionResult } from '../../workflows/artifact-retention';
import { finalStatus, pipelineFrom, runInput } from '../helpers/artifact-runs';
import { waitForRunningStep } from '../helpers/runs';
import { createTestStore, type TestStore } from '../helpers/stores';
import { closeTestEnvironment, testEnvironment, uniqueTaskQueue, withWorkers } from '../helpers/temporal';

const day = 24 * 3600 * 1000;

after(() => closeTestEnvironment());

describe('the retention schedule', () => {
  it('exists in Temporal, every 4 hours, skipping a start while a run is still going', async () => {
    const env = await testEnvironment();
    // Created by the embedded stack's worker at start.
    const description = await env.client.schedule.getHandle(retentionScheduleId).describe();
    assert.equal(description.action.type, 'startWorkflow');
    assert.equal((description.action as { workflowType: string }).workflowType, 'artifactRetention');
    assert.equal(description.spec.intervals?.[0]?.every, 4 * 3600 * 1000);
    assert.equal(description.policies.overlap, ScheduleOverlapPolicy.SKIP);
  });

  it('is created once, left alone when unchanged, and updated when the configuration changes', async () => {
    const env = await testEnvironment();
    const scheduleId = `test-retention-${uniqueTaskQueue('schedule')}`;
    const options = { taskQueue: 'test-queue', intervalSeconds: 3600, maxDeletions: 10, scheduleId };
    try {
      assert.equal(await ensureRetentionSchedule(env.client, options), 'created');
      assert.equal(await ensureRetentionSchedule(env.client, options), 'unchanged');
      assert.equal(await ensureRetentionSchedule(env.client, { ...options, intervalSeconds: 1800 }), 'updated');
      const description = await env.client.schedule.getHandle(scheduleId).describe();
      assert.equal(description.spec.intervals?.[0]?.every, 1800 * 1000);
    } finally {
      await env.client.schedule.getHandle(scheduleId).delete();
    }
  });
});

describe('a retention cycle (real MinIO, real Temporal, a real running job)', () => {
  let subject: TestStore;
  let catalog: ArtifactCatalog;
  const now = Date.now();

  /** Stores content and a record of `name`, `ageDays` old and last used `usedDaysAgo` ago. */
  async function seed(name: string, ageDays: number, options: { usedDaysAgo?: number; content?: Buffer } = {}) {
    const content = options.content ?? randomBytes(2000);
    const run = `run-retention-seed-${name}`;
    const { digest, size } = await subject.store.putContent(Readable.from([content]));
    const record: ArtifactRecord = {
      version: 1,
      name,
      pipeline: 'retention-test',
      run,
      job: 'build',
      digest: formatDigest(digest),
      size,
      files: 1,
      compression: 'none',
      mediaType: 'application/x-tar',
      paths: [name],
      createdAt: new Date(now - ageDays * day).toISOString(),
      lastAccessedAt: new Date(now - (options.usedDaysAgo ?? ageDays) * day).toISOString(),
      producer: { run, job: 'build', jobAttempt: 1 },
    };
    await catalog.markUse(digest, record);
    const key = await catalog.putRecord(record);
    return { digest, key, record };
  }

  before(async () => {
    subject = await createTestStore('s3');
    catalog = new ArtifactCatalog(subject.store);
  });
  after(() => subject.dispose());

  it('deletes exactly the expired, unreferenced artifacts and keeps the one a running job uses', async () => {
    const young = await seed('young', 2);
    const expired = await seed('expired', 45);
    const pinned = await seed('pinned', 45);
    await catalog.addReference(pinned.digest, pinHolder, { kind: 'pin', since: new Date().toISOString() });
    const shared = randomBytes(3000);
    const sharedOld = await seed('shared-old', 45, { content: shared });
    await seed('shared-young', 1, { content: shared });
    const staleReference = await seed('stale-reference', 45);
    await catalog.addReference(staleReference.digest, jobHolder('run-that-never-existed', 'ghost'), {
      kind: 'job',
      run: 'run-that-never-existed',
      job: 'ghost',
      since: new Date(now - 40 * day).toISOString(),
    });
    // What a consumer will receive: an archive holding in-use/file-from-store.
    const pack = tar.pack();
    pack.entry({ name: 'in-use', type: 'directory', mode: 0o755 });
    pack.entry({ name: 'in-use/file-from-store', mode: 0o644 }, 'kept\n');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    const inUse = await seed('in-use', 45, { content: Buffer.concat(chunks) });

    // A real run whose consumer received `in-use` (its producer's result reused, as after `rerun --failed`) and is
    // still running when the cycle comes.
    const env = await testEnvironment();
    const taskQueue = uniqueTaskQueue('retention');
    const runId = `run-retention-consumer-${taskQueue}`;
    const pipeline = pipelineFrom(`
name: retention-test
jobs:
  build:
    steps: [{name: make, script: ["mkdir -p in-use && echo x > in-use/file"]}]
    artifacts:
      in-use: in-use
  consume:
    needs: [build]
    steps: [{name: hold, script: ["test -f in-use/file-from-store", "sleep 300"]}]
`);
    const { record } = inUse;
    const reuse = {
      build: {
        status: 'success' as const,
        baseName: 'build',
        steps: [],
        artifacts: { 'in-use': { run: record.run, digest: record.digest, size: record.size, files: 1 } },
      },
    };

    const settings = { ...artifactSettings({}), quotaBytes: 10 * 1000 ** 3 };
    const result = await withWorkers(
      taskQueue,
      async () => {
        const handle = await env.client.workflow.start('pipelineRun', {
          taskQueue,
          workflowId: runId,
          args: [runInput(pipeline, reuse, 'run-retention-seed')],
        });
        await waitForRunningStep(runId, 'hold', 120_000);
        const cycle = (await env.client.workflow.execute('artifactRetention', {
          taskQueue,
          workflowId: `retention-test-${taskQueue}`,
          args: [{ maxDeletions: 1000, intervalSeconds: 3600 }],
        })) as ArtifactRetentionResult;
        await handle.cancel();
        await finalStatus(handle).catch(() => undefined);
        return cycle;
      },
      { store: subject.store, scratchDir: subject.spoolDir, artifactSettings: settings },
    );

    const [cycle] = result.cycles;
    assert.equal(result.cycles.length, 1, 'green pressure: one cycle');
    assert.equal(cycle!.plan.level, 'green');
    const remaining = new Set<string>();
    for await (const { record } of catalog.listRecords()) remaining.add(record.name);
    assert.deepEqual([...remaining].sort(), ['in-use', 'pinned', 'shared-young', 'young']);
    assert.equal(await subject.store.statContent(expired.digest), undefined, 'expired content deleted');
    assert.equal(
      await subject.store.statContent(staleReference.digest),
      undefined,
      'a stale reference protects nothing',
    );
    assert.deepEqual(await catalog.references(staleReference.digest), []);
    assert.ok(await subject.store.statContent(sharedOld.digest), 'content still used by a young record stays');
    assert.ok(await subject.store.statContent(inUse.digest), 'the running job’s input survives');
    assert.ok(await subject.store.statContent(pinned.digest));
    assert.ok(await subject.store.statContent(young.digest));
    assert.deepEqual(
      [cycle!.result.deletedRecords, cycle!.result.deletedContent, cycle!.result.staleReferencesRemoved],
      [3, 2, 1],
    );

    // The audit: a record per decision, with the policy and the reason.
    const plan = await subject.store.getRecord<RetentionPlan>(`audit/retention/${cycle!.plan.cycle}/plan.json`);
    const reasons = Object.fromEntries(plan!.decisions.map((d) => [d.name, `${d.decision}:${d.reason}:${d.policy}`]));
    assert.deepEqual(reasons, {
      young: 'keep:young:builtin_default',
      expired: 'delete:expired:builtin_default',
      pinned: 'keep:referenced:builtin_default',
      'shared-old': 'delete:expired:builtin_default',
      'shared-young': 'keep:young:builtin_default',
      'stale-reference': 'delete:expired:builtin_default',
      'in-use': 'keep:referenced:builtin_default',
    });
    const audit = await subject.store.getRecord<{
      outcomes: { name?: string; outcome: string; contentDeleted: boolean }[];
    }>(`audit/retention/${cycle!.plan.cycle}/result.json`);
    assert.deepEqual(audit!.outcomes.map((o) => `${o.name}:${o.outcome}:${o.contentDeleted}`).sort(), [
      'expired:deleted:true',
      'shared-old:deleted:false',
      'stale-reference:deleted:true',
    ]);
  });

  it('re-checks references right before deleting, and removes orphaned objects older than a day', async () => {
    const fsStore = await createTestStore('fs');
    try {
      const fsCatalog = new ArtifactCatalog(fsStore.store);
      const claimed = await fsStore.store.putContent(Readable.from([randomBytes(500)]));
      const record: ArtifactRecord = {
        version: 1,
        name: 'claimed',
        pipeline: 'p',
        run: 'run-x',
        job: 'j',
        digest: formatDigest(claimed.digest),
        size: claimed.size,
        files: 1,
        compression: 'none',
        mediaType: 'application/x-tar',
        paths: ['x'],
        createdAt: new Date(now - 60 * day).toISOString(),
        lastAccessedAt: new Date(now - 60 * day).toISOString(),
        producer: { run: 'run-x', job: 'j', jobAttempt: 1 },
      };
      await fsCatalog.markUse(claimed.digest, record);
      await fsCatalog.putRecord(record);
      const orphan = await fsStore.store.putContent(Readable.from([randomBytes(700)]));
      const old = new Date(now - 3 * day);
      await utimes(path.join(fsStore.store.location, contentKey(orphan.digest)), old, old);
      const deps = {
        store: fsStore.store,
        settings: artifactSettings({}),
        runIsOpen: async (run: string) => run === 'run-open',
      };
      const plan = await planRetentionCycle(deps, { cycle: 'test' });
      assert.deepEqual(
        plan.deletions.map((d) => d.name),
        ['claimed'],
      );
      assert.deepEqual(
        plan.orphanedContent.map((o) => o.digest),
        [orphan.digest],
      );
      // A job of an open run claims the artifact after the plan was made.
      await fsCatalog.addReference(claimed.digest, jobHolder('run-open', 'late'), {
        kind: 'job',
        run: 'run-open',
        job: 'late',
        since: new Date().toISOString(),
      });
      const { result, outcomes } = await applyRetentionPlan(deps, plan);
      assert.equal(result.keptOnRecheck, 1);
      assert.ok(
        outcomes.some(
          (o) => o.name === 'claimed' && o.outcome === 'kept' && /referenced since planning/.test(o.detail),
        ),
      );
      assert.ok(await fsStore.store.statContent(claimed.digest));
      assert.equal(await fsStore.store.statContent(orphan.digest), undefined);
      assert.equal(result.deletedContent, 1);
    } finally {
      await fsStore.dispose();
    }
  });
});
