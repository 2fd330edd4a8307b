/**
 * `conveyor schedules sync|ls|pause|unpause|trigger|rm`: a pipeline's `schedule:` triggers as Temporal Schedules
 * (docs/triggers.md). `sync` reads the pipeline file as committed on a branch and makes Temporal match it.
 */
import type { ScheduleHandle } from '@temporalio/client';
import type { Command } from 'commander';

interface SyncFlags {
  branch?: string;
  repo?: string;
  ref?: string;
  json?: boolean;
}

/** Registers `conveyor schedules`. */
export function registerSchedulesCommand(program: Command): void {
  const schedules = program
    .command('schedules')
    .description("a pipeline's schedule triggers, as Temporal Schedules: sync, ls, pause, unpause, trigger, rm");

  schedules
    .command('sync')
    .description('create, update and delete the schedules of a pipeline file as committed on a branch')
    .argument('[file]', 'pipeline file (default: .conveyor.yml at the root of the git work tree)')
    .option('--branch <branch>', 'the branch the schedules run (default: the checked-out branch, or --ref)')
    .option('--repo <url|path>', 'read the pipeline from another repository')
    .option('--ref <ref>', 'read the pipeline file at this branch (default: the checked-out commit)')
    .option('--json', 'print what changed as JSON')
    .action(async (file: string | undefined, flags: SyncFlags) => {
      const [{ withClient }, { resolveRunSource }, { parsePipelineText }, { syncSchedules }, { sourceVariables }] =
        await Promise.all([
          import('../temporal.js'),
          import('../run-source.js'),
          import('../pipeline-file.js'),
          import('../schedules.js'),
          import('../../pipeline/source.js'),
        ]);
      const { CliError } = await import('../cli-error.js');
      await withClient(async (client, config) => {
        const resolved = await resolveRunSource(config, {
          file,
          ref: flags.ref,
          repo: flags.repo,
          committedOnly: true,
          cwd: process.cwd(),
        });
        if (!resolved.source)
          throw new CliError('schedules run a repository: run this inside a git work tree, or give --repo', 2);
        const branch = flags.branch ?? resolved.source.branch;
        if (!branch) throw new CliError('the work tree is on no branch (detached HEAD): name one with --branch', 2);
        const pipeline = parsePipelineText(resolved.text, resolved.label, {
          vars: {},
          defaultImage: config.defaultImage,
          system: sourceVariables(resolved.source),
        });
        const sync = await syncSchedules(
          client,
          config,
          {
            pipeline: pipeline.name,
            repository: resolved.source.repository,
            file: resolved.source.pipelineFile ?? '.conveyor.yml',
            branch,
            defaultBranch: branch,
          },
          pipeline.triggers?.schedule,
        );
        if (flags.json) {
          console.log(JSON.stringify(sync));
          return;
        }
        for (const id of sync.created) console.log(`created ${id}`);
        for (const id of sync.updated) console.log(`updated ${id}`);
        for (const id of sync.deleted) console.log(`deleted ${id}`);
        if (sync.created.length + sync.updated.length + sync.deleted.length === 0) {
          console.log(`${pipeline.name} has no schedules for branch ${branch}`);
        }
      });
    });

  schedules
    .command('ls')
    .description("list Conveyor's schedules: pipeline, branch, cron, state, next and last run")
    .option('--json', 'print them as JSON')
    .action(async (flags: { json?: boolean }) => {
      const [{ withClient }, { listSchedules }] = await Promise.all([
        import('../temporal.js'),
        import('../schedules.js'),
      ]);
      await withClient(async (client) => {
        const rows = (await listSchedules(client)).map((schedule) => {
          const memo = (schedule.memo ?? {}) as { pipeline?: string; branch?: string; cron?: string };
          const last = schedule.info.recentActions.at(-1);
          return {
            id: schedule.scheduleId,
            pipeline: memo.pipeline ?? '',
            branch: memo.branch ?? '',
            cron: memo.cron ?? '',
            paused: schedule.state.paused,
            next: schedule.info.nextActionTimes[0]?.toISOString(),
            last: last?.scheduledAt.toISOString(),
            lastRun: last?.action.workflow.workflowId,
          };
        });
        if (flags.json) {
          console.log(JSON.stringify(rows));
          return;
        }
        if (rows.length === 0) console.log('no schedules (add schedule: triggers and run conveyor schedules sync)');
        for (const row of rows) {
          const state = row.paused ? 'paused' : `next ${row.next ?? '—'}`;
          console.log(`${row.id}  ${row.pipeline}  ${row.branch}  "${row.cron}"  ${state}  last ${row.last ?? '—'}`);
        }
      });
    });

  const act = (name: string, description: string, run: (id: string, note?: string) => Promise<string>) =>
    schedules
      .command(name)
      .description(description)
      .argument('<schedule>', 'schedule id (see conveyor schedules ls)')
      .option('--note <text>', 'why (shown with the schedule)')
      .action(async (id: string, flags: { note?: string }) => console.log(await run(id, flags.note)));

  const withSchedule = async (id: string, body: (handle: ScheduleHandle) => Promise<void>) => {
    const [{ withClient }, { ScheduleNotFoundError }, { CliError }] = await Promise.all([
      import('../temporal.js'),
      import('@temporalio/client'),
      import('../cli-error.js'),
    ]);
    await withClient(async (client) => {
      try {
        await body(client.schedule.getHandle(id));
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) {
          throw new CliError(`no schedule '${id}' (see conveyor schedules ls)`);
        }
        throw error;
      }
    });
  };
  act('pause', 'stop a schedule from starting runs until unpaused', async (id, note) => {
    await withSchedule(id, (handle) => handle.pause(note ?? 'paused with conveyor schedules pause'));
    return `paused ${id}`;
  });
  act('unpause', 'let a paused schedule start runs again', async (id, note) => {
    await withSchedule(id, (handle) => handle.unpause(note ?? 'unpaused with conveyor schedules unpause'));
    return `unpaused ${id}`;
  });
  act('trigger', 'start a run of the schedule now (its overlap policy applies)', async (id) => {
    await withSchedule(id, (handle) => handle.trigger());
    return `triggered ${id}`;
  });
  act('rm', 'delete a schedule (sync creates it again while the pipeline has it)', async (id) => {
    await withSchedule(id, (handle) => handle.delete());
    return `deleted ${id}`;
  });
}
