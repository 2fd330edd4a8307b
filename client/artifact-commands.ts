/**
 * What `conveyor artifacts …` does (client/commands/artifacts.ts registers it; docs/artifacts.md). Everything but
 * `gc` works from the store alone, so it runs on any machine that can reach the S3 store (or the fs store's disk).
 */
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { extractToDirectory, inspectArchive } from '../activities/artifacts/archive-read';
import { ArtifactCatalog, pinHolder, recordHex, type ArtifactRecord } from '../activities/artifacts/catalog';
import { classifyArtifactError } from '../activities/artifacts/errors';
import { measureUsage } from '../activities/artifacts/quota';
import { planRetentionCycle } from '../activities/artifacts/retention';
import { scrubStore, verifyRecords, type ScrubReport } from '../activities/artifacts/scrub';
import { fetchVerified } from '../activities/artifacts/transfer';
import {
  formatDigest,
  InvalidDigestError,
  parseDigest,
  StoreUnavailableError,
  type ArtifactStore,
} from '../activities/store/store';
import { formatMemorySize } from '../pipeline/memory-size';
import { artifactSettings } from '../config/artifacts-config';
import { loadConfig, type ConveyorConfig } from '../workers/config';
import { createStoreFromConfig, scratchDir } from '../workers/stores';
import { retentionScheduleId } from '../workers/retention-schedule';
import type { ArtifactRetentionResult } from '../workflows/artifact-retention';
import { CliError } from './cli-error';
import { withClient } from './temporal';

/** Transfers above this show a progress bar on a terminal. */
export const progressThresholdBytes = 50 * 1000 * 1000;

interface Context {
  config: ConveyorConfig;
  store: ArtifactStore;
  catalog: ArtifactCatalog;
}

function open(): Context {
  const config = loadConfig();
  const store = createStoreFromConfig(config);
  return { config, store, catalog: new ArtifactCatalog(store) };
}

/** Runs a subcommand, turning an unreachable store into one line that says how to fix it. */
async function command<T>(body: (context: Context) => Promise<T>): Promise<T> {
  const context = open();
  try {
    return await body(context);
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      throw new CliError(
        context.store.kind === 's3'
          ? `${error.message}; start the embedded stack with 'conveyor dev up', or set CONVEYOR_STORE=fs`
          : error.message,
      );
    }
    if (error instanceof InvalidDigestError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** A record as `ls --json` prints it. */
interface ListedArtifact {
  name: string;
  pipeline: string;
  run: string;
  job: string;
  digest: string;
  size: number;
  files: number;
  compression: string;
  createdAt: string;
  lastAccessedAt: string;
  references: number;
  pinned: boolean;
  consumers: { run: string; job: string }[];
}

/** `conveyor artifacts ls [RUN] [--pipeline P]`. */
export async function listArtifacts(run: string | undefined, flags: { pipeline?: string; json?: boolean }) {
  await command(async ({ catalog }) => {
    const listed: ListedArtifact[] = [];
    for await (const { record } of catalog.listRecords({ pipeline: flags.pipeline, run })) {
      const digest = recordHex(record);
      const references = await catalog.references(digest);
      listed.push({
        name: record.name,
        pipeline: record.pipeline,
        run: record.run,
        job: record.job,
        digest: record.digest,
        size: record.size,
        files: record.files,
        compression: record.compression,
        createdAt: record.createdAt,
        lastAccessedAt: record.lastAccessedAt,
        references: references.length,
        pinned: references.some((r) => r.holder === pinHolder),
        consumers: (await catalog.consumers(digest)).map(({ run: consumerRun, job }) => ({ run: consumerRun, job })),
      });
    }
    listed.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    if (flags.json) {
      console.log(JSON.stringify(listed));
      return;
    }
    if (listed.length === 0) {
      console.log(run ? `run ${run} has no stored artifacts` : 'no stored artifacts');
      return;
    }
    for (const a of listed) {
      const pin = a.pinned ? '  pinned' : '';
      console.log(
        `${a.name}  ${a.job}  ${a.run}  ${a.digest.slice(0, 19)}…  ${formatMemorySize(a.size)}  ${a.files} files  ${a.createdAt}${pin}`,
      );
    }
  });
}

/** Finds the record `get` and `pin` mean. */
async function findRecord(
  catalog: ArtifactCatalog,
  run: string | undefined,
  name: string | undefined,
  flags: { pipeline?: string; latest?: boolean },
): Promise<{ key: string; record: ArtifactRecord }> {
  if (flags.latest || flags.pipeline) {
    const artifact = name ?? run;
    if (!flags.pipeline || !flags.latest || !artifact || (name && run)) {
      throw new CliError('use either RUN NAME, or --pipeline PIPELINE NAME --latest', 2);
    }
    const latest = await catalog.latest(flags.pipeline, artifact);
    if (!latest) throw new CliError(`pipeline '${flags.pipeline}' has no stored artifact named '${artifact}'`);
    return latest;
  }
  if (!run || !name) throw new CliError('name the run and the artifact: conveyor artifacts get RUN NAME', 2);
  const [job, artifactName] = name.includes('/')
    ? [name.slice(0, name.indexOf('/')), name.slice(name.indexOf('/') + 1)]
    : [undefined, name];
  const all: { key: string; record: ArtifactRecord }[] = [];
  for await (const entry of catalog.listRecords({ run })) all.push(entry);
  const matches = all.filter(({ record }) => record.name === artifactName && (!job || record.job === job));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    const choices = matches.map(({ record }) => `${record.job}/${record.name}`).join(', ');
    throw new CliError(`run ${run} has several artifacts named '${artifactName}'; say which: ${choices}`, 2);
  }
  const names = [...new Set(all.map(({ record }) => record.name))].sort().join(', ');
  throw new CliError(
    all.length === 0
      ? `run ${run} has no stored artifacts (list them with 'conveyor artifacts ls')`
      : `run ${run} has no artifact '${name}' (it has: ${names})`,
  );
}

/** A progress bar on stderr for big transfers on a terminal; a no-op otherwise. */
function progressBar(label: string, total: number): { update: (bytes: number) => void; stop: () => void } {
  if (total <= progressThresholdBytes || !process.stderr.isTTY)
    return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB`,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(Math.ceil(total / 1e6), 0);
  // Rounded up like the total, so the last update shows 100 %.
  return { update: (bytes) => bar.update(Math.ceil(bytes / 1e6)), stop: () => bar.stop() };
}

/** `conveyor artifacts get RUN NAME [-o DIR]` and `get --pipeline P NAME --latest`. */
export async function getArtifact(
  run: string | undefined,
  name: string | undefined,
  flags: { pipeline?: string; latest?: boolean; output?: string; json?: boolean },
) {
  await command(async ({ config, store, catalog }) => {
    const { key, record } = await findRecord(catalog, run, name, flags);
    const directory = path.resolve(flags.output ?? record.name);
    const progress = progressBar(`fetching ${record.name}`, record.size);
    let verified;
    try {
      verified = await fetchVerified(store, recordHex(record), {
        expectedSize: record.size,
        spoolDir: scratchDir(config),
        onProgress: progress.update,
      });
    } catch (error) {
      const failure = classifyArtifactError(error, { artifact: record.name, producer: record.job });
      throw failure instanceof Error && failure !== error ? new CliError(failure.message) : error;
    } finally {
      progress.stop();
    }
    try {
      await inspectArchive(verified.open(), record.compression).catch((error: unknown) => {
        throw new CliError(
          (classifyArtifactError(error, { artifact: record.name, producer: record.job }) as Error).message,
        );
      });
      const contents = await extractToDirectory(verified.open(), record.compression, directory).catch(
        (error: unknown) => {
          throw new CliError((error as Error).message);
        },
      );
      await catalog.touch(key, record);
      if (flags.json) {
        console.log(
          JSON.stringify({
            name: record.name,
            run: record.run,
            job: record.job,
            digest: record.digest,
            size: record.size,
            files: contents.files,
            directory,
          }),
        );
      } else {
        console.log(
          `${record.name} (${record.digest.slice(0, 19)}…, verified): ${contents.files} files into ${directory}`,
        );
      }
    } finally {
      await verified.release();
    }
  });
}

/** `conveyor artifacts verify RUN | --all`: exit 1 when anything is corrupted, missing or orphaned. */
export async function verifyArtifacts(run: string | undefined, flags: { all?: boolean; json?: boolean }) {
  await command(async ({ store, catalog }) => {
    if (!run === !flags.all) throw new CliError('name a run, or use --all for the whole store', 2);
    let report: ScrubReport;
    if (flags.all) {
      report = await scrubStore(store);
    } else {
      const records: { key: string; record: ArtifactRecord }[] = [];
      for await (const entry of catalog.listRecords({ run })) records.push(entry);
      if (records.length === 0) throw new CliError(`run ${run} has no stored artifacts`);
      report = await verifyRecords(store, records);
    }
    if (flags.json) {
      console.log(JSON.stringify({ ok: report.findings.length === 0, ...report }));
    } else {
      for (const finding of report.findings)
        console.log(`${finding.kind}  ${formatDigest(finding.digest)}  ${finding.detail}`);
      const counts = (['corrupted', 'missing', 'orphaned'] as const)
        .map((kind) => `${report.findings.filter((f) => f.kind === kind).length} ${kind}`)
        .join(', ');
      console.log(
        `verified ${report.objects} object(s), ${formatMemorySize(report.bytes)}, ${report.records} record(s): ${counts}`,
      );
    }
    if (report.findings.length > 0) process.exitCode = 1;
  });
}

/** `conveyor artifacts pin|unpin DIGEST` or `… RUN NAME`. */
export async function pinArtifact(
  verb: 'pin' | 'unpin',
  target: string,
  name: string | undefined,
  flags: { json?: boolean },
) {
  await command(async ({ store, catalog }) => {
    const digest = name ? recordHex((await findRecord(catalog, target, name, {})).record) : parseDigest(target);
    if (verb === 'pin') {
      if (!(await store.statContent(digest))) throw new CliError(`${formatDigest(digest)} is not in the store`);
      await catalog.addReference(digest, pinHolder, { kind: 'pin', since: new Date().toISOString() });
    } else if (!(await catalog.removeReference(digest, pinHolder))) {
      throw new CliError(`${formatDigest(digest)} is not pinned`);
    }
    if (flags.json) console.log(JSON.stringify({ digest: formatDigest(digest), pinned: verb === 'pin' }));
    else
      console.log(
        `${formatDigest(digest)} ${verb === 'pin' ? 'pinned: retention keeps it until unpinned' : 'unpinned'}`,
      );
  });
}

/** `conveyor artifacts gc [--dry-run]`. */
export async function collectGarbage(flags: { dryRun?: boolean; json?: boolean }) {
  await command(async ({ config, store }) => {
    const settings = artifactSettings(config.file);
    await withClient(async (client) => {
      if (flags.dryRun) {
        const runIsOpen = async (runId: string) => {
          try {
            return (await client.workflow.getHandle(runId).describe()).status.name === 'RUNNING';
          } catch (error) {
            return (error as Error).name !== 'WorkflowNotFoundError';
          }
        };
        const plan = await planRetentionCycle({ store, settings, runIsOpen }, { cycle: 'dry-run' });
        if (flags.json) {
          console.log(
            JSON.stringify({
              level: plan.usage.level,
              usedPercent: plan.usage.usedPercent,
              deletions: plan.deletions,
              deferred: plan.deferred,
              staleReferences: plan.staleReferences,
              orphanedContent: plan.orphanedContent,
            }),
          );
          return;
        }
        console.log(
          `store at ${plan.usage.usedPercent} % of its quota (${plan.usage.level}); ${plan.decisions.length} artifact(s)`,
        );
        for (const d of plan.deletions) {
          console.log(
            `would delete  ${d.name}  ${d.pipeline}  ${formatDigest(d.digest).slice(0, 19)}…  ${d.reason} (${d.policy}): ${d.detail}`,
          );
        }
        for (const o of plan.orphanedContent)
          console.log(
            `would delete  ${formatDigest(o.digest).slice(0, 19)}…  orphaned object, ${formatMemorySize(o.size)}`,
          );
        for (const s of plan.staleReferences)
          console.log(
            `would drop    the reference of job '${s.job}' of ended run ${s.run} to ${formatDigest(s.digest).slice(0, 19)}…`,
          );
        if (plan.deferred > 0)
          console.log(
            `${plan.deferred} more deletion(s) left for later cycles (at most ${settings.retention.maxDeletions} a cycle)`,
          );
        if (plan.deletions.length + plan.orphanedContent.length === 0) console.log('nothing to delete');
        return;
      }
      const result = await runScheduledCycle(client);
      if (flags.json) console.log(JSON.stringify(result));
      else {
        for (const cycle of result.cycles) {
          console.log(
            `retention: ${cycle.result.deletedRecords} artifact(s) and ${cycle.result.deletedContent} object(s) deleted, ` +
              `${formatMemorySize(cycle.result.bytesFreed)} freed (store was ${cycle.plan.usedPercent} %, ${cycle.plan.level})`,
          );
        }
      }
    });
  });
}

/** Triggers the retention schedule (so the at-most-one rule holds) and waits for the run it starts. */
async function runScheduledCycle(
  client: Parameters<Parameters<typeof withClient>[0]>[0],
): Promise<ArtifactRetentionResult> {
  const schedule = client.schedule.getHandle(retentionScheduleId);
  const before = await schedule.describe().catch(() => {
    throw new CliError(
      `the retention schedule '${retentionScheduleId}' does not exist yet; start a worker (conveyor dev up)`,
    );
  });
  const seen = new Set(before.info.recentActions.map((action) => action.action.workflow.workflowId));
  const running = before.info.runningActions[0];
  if (!running) await schedule.trigger();
  const deadline = Date.now() + 60_000;
  let workflowId = running?.workflow.workflowId;
  while (!workflowId) {
    if (Date.now() > deadline)
      throw new CliError('the retention schedule did not start a run within a minute; is a worker running?');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await schedule.describe();
    workflowId = [
      ...now.info.runningActions.map((a) => a.workflow),
      ...now.info.recentActions.map((a) => a.action.workflow),
    ].find((workflow) => !seen.has(workflow.workflowId))?.workflowId;
  }
  return (await client.workflow.getHandle(workflowId).result()) as ArtifactRetentionResult;
}

/** `conveyor artifacts stats`. */
export async function storeStats(flags: { json?: boolean }) {
  await command(async ({ config, store }) => {
    const usage = await measureUsage(store, artifactSettings(config.file).quotaBytes);
    if (flags.json) {
      console.log(JSON.stringify({ store: store.location, ...usage }));
      return;
    }
    console.log(`store        ${store.location}`);
    console.log(
      `stored       ${formatMemorySize(usage.bytes)} in ${usage.objects} object(s) (${usage.contentObjects} content, ${formatMemorySize(usage.contentBytes)})`,
    );
    console.log(`quota        ${formatMemorySize(usage.quotaBytes)}, ${usage.usedPercent} % used`);
    console.log(`pressure     ${usage.level}`);
  });
}
