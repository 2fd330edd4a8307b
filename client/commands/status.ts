/**
 * `conveyor status RUN`: every job's state, steps, attempts, exit codes and times; for a run still going, a notice
 * when a queue its unfinished jobs need has no live worker (client/run-pools.ts).
 */
import type { Command } from 'commander';

/** Registers `conveyor status`. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("show a run's jobs and steps (live while it runs)")
    .argument('<run>', 'run id, e.g. run-hello-01j…')
    .option('--json', 'print the status as JSON')
    .action(async (runId: string, flags: { json?: boolean }) => {
      const [{ withClient }, { fetchRunStatus }, { describeJob }, { toJsonSummary }, { runWorkerNotice }] =
        await Promise.all([
          import('../temporal.js'),
          import('../runs.js'),
          import('../run-view.js'),
          import('../run-summary.js'),
          import('../run-pools.js'),
        ]);
      await withClient(async (client, config) => {
        const status = await fetchRunStatus(client, runId);
        const notice = await runWorkerNotice(client, config, runId, status);
        if (notice) process.stderr.write(`conveyor: ${notice}\n`);
        if (flags.json) {
          console.log(JSON.stringify(toJsonSummary(runId, status)));
          return;
        }
        console.log(`${runId}  ${status.pipeline}  ${status.status}`);
        for (const [name, job] of Object.entries(status.jobs)) {
          console.log(describeJob(name, job));
          for (const step of job.steps) {
            const exit = step.exitCode !== undefined ? ` exit ${step.exitCode}` : '';
            const attempts = step.attempts > 1 ? ` after ${step.attempts} attempts` : '';
            const reason = step.reason && step.status !== 'success' ? ` (${step.reason})` : '';
            console.log(`    ${step.name}: ${step.status}${exit}${attempts}${reason}`);
          }
          for (const [artifact, stored] of Object.entries(job.artifacts ?? {})) {
            console.log(
              `    artifact ${artifact}: ${stored.digest.slice(0, 19)}… ${stored.size} bytes, ${stored.files} files`,
            );
          }
          const built = job.deployment?.image;
          if (built) console.log(`    image ${built.tag}: ${built.id} (built from artifact ${built.context.name})`);
          if (
            job.status === 'failed' &&
            job.message &&
            (job.reason?.startsWith('artifact_') || job.reason === 'image_build_failed')
          ) {
            console.log(`    ${job.message}`);
          }
        }
        if (status.incident) {
          const { incidentSummaryLine } = await import('../incidents.js');
          console.log(await incidentSummaryLine(client, status.incident));
        }
      });
    });
}
