/** `conveyor logs RUN [JOB[/STEP]] [-f]`: a run's step output from the log store. */
import type { Command } from 'commander';
import type { LogRecord } from '../../activities/log-store';
import { createLogStoreFromConfig } from '../../workers/stores';
import { loadConfig } from '../../workers/config';
import { describeRun } from '../runs';
import { connectClient } from '../temporal';

interface LogsFlags {
  follow?: boolean;
  stream?: string;
}

/** Registers `conveyor logs`. */
export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("print a run's step output, optionally for one job or job/step")
    .argument('<run>', 'run id')
    .argument('[selector]', 'JOB or JOB/STEP')
    .option('-f, --follow', 'keep printing new lines until the run ends')
    .option('--stream <stream>', 'only stdout or stderr')
    .action(async (runId: string, selector: string | undefined, flags: LogsFlags) => {
      const config = loadConfig();
      const logs = createLogStoreFromConfig(config);
      const { client, connection } = await connectClient(config);
      try {
        await describeRun(client, runId);
        const [job, step] = splitSelector(selector);
        const matches = (record: LogRecord) =>
          (!job || record.job === job) &&
          (!step || record.step === step) &&
          (!flags.stream || record.stream === flags.stream);
        const prefix = (record: LogRecord) =>
          step ? '' : job ? `[${record.step}] ` : `[${record.job}/${record.step}] `;
        let offsets = new Map<string, number>();
        for (;;) {
          const read = await logs.read(runId, offsets);
          offsets = read.offsets;
          for (const record of read.records.filter(matches)) process.stdout.write(`${prefix(record)}${record.line}\n`);
          if (!flags.follow) break;
          const description = await describeRun(client, runId);
          if (description.status.name !== 'RUNNING') {
            const rest = await logs.read(runId, offsets);
            for (const record of rest.records.filter(matches))
              process.stdout.write(`${prefix(record)}${record.line}\n`);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
      } finally {
        await connection.close();
      }
    });
}

/** `build/compile` → [build, compile]; a job name may itself hold no slash, so the first one splits. */
function splitSelector(selector: string | undefined): [string | undefined, string | undefined] {
  if (!selector) return [undefined, undefined];
  const slash = selector.indexOf('/');
  return slash < 0 ? [selector, undefined] : [selector.slice(0, slash), selector.slice(slash + 1)];
}
