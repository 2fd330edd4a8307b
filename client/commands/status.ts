/** `conveyor status RUN`: every job's state, steps, attempts, exit codes and times. */
import type { Command } from 'commander';

/** Registers `conveyor status`. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("show a run's jobs and steps (live while it runs)")
    .argument('<run>', 'run id, e.g. run-hello-01j…')
    .option('--json', 'print the status as JSON')
    .action(async (runId: string, flags: { json?: boolean }) => {
      const [{ withClient }, { fetchRunStatus }, { describeJob }, { toJsonSummary }] = await Promise.all([
        import('../temporal.js'),
        import('../runs.js'),
        import('../run-view.js'),
        import('../run-summary.js'),
      ]);
      await withClient(async (client) => {
        const status = await fetchRunStatus(client, runId);
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
