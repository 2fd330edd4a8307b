/** `conveyor run FILE`: validate a pipeline, start its run, stream its output and report the outcome. */
import type { Command } from 'commander';
import { ulid } from 'ulid';
import { slug } from '../../activities/names';
import { createLogStoreFromConfig } from '../../workers/stores';
import { loadConfig, temporalUiUrl, type ConveyorConfig } from '../../workers/config';
import type { PipelineRunInput, PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { pipelineKey, statusKey, triggerKey } from '../../workflows/search-attributes';
import { CliError } from '../cli-error';
import { loadPipelineFile, parseVarFlags } from '../pipeline-file';
import { connectClient } from '../temporal';
import { describeFailure, toJsonSummary } from '../run-summary';
import { watchRun } from '../run-view';

interface RunFlags {
  var: string[];
  detach?: boolean;
  json?: boolean;
}

/** A readable, unique workflow id: `run-<pipeline>-<ulid>`. */
export function newRunId(pipelineName: string): string {
  return `run-${slug(pipelineName)}-${ulid().toLowerCase()}`;
}

/** Registers `conveyor run`. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a pipeline and stream its output; exits 0 on success, 1 on failure')
    .argument('<file>', 'pipeline YAML file')
    .option('--var <NAME=value>', 'set a variable (repeatable)', (value: string, all: string[]) => [...all, value], [])
    .option('--detach', 'start the run and print its id without waiting')
    .option('--json', 'print a JSON summary as the last line of output')
    .action(async (file: string, flags: RunFlags) => {
      const config = loadConfig();
      const vars = parseVarFlags(flags.var);
      const pipeline = await loadPipelineFile(file, { vars, defaultImage: config.defaultImage });
      const status = await startAndFollow(config, { pipeline, vars, trigger: 'cli' }, flags);
      if (status && status.status !== 'success') process.exitCode = 1;
    });
}

/** Starts a run and, unless detached, follows it to its end; returns the final status. */
export async function startAndFollow(
  config: ConveyorConfig,
  input: PipelineRunInput,
  flags: { detach?: boolean; json?: boolean },
): Promise<PipelineRunStatus | undefined> {
  const { client, connection } = await connectClient(config);
  try {
    const workflowId = newRunId(input.pipeline.name);
    const handle = await client.workflow.start('pipelineRun', {
      taskQueue: config.taskQueues.workflows,
      workflowId,
      args: [input],
      typedSearchAttributes: [
        { key: pipelineKey, value: input.pipeline.name },
        { key: statusKey, value: 'running' },
        { key: triggerKey, value: input.trigger },
      ],
      memo: { pipeline: input.pipeline.name, vars: input.vars },
      staticSummary: `pipeline ${input.pipeline.name}`,
    });
    // With --json, stdout carries only the JSON summary; everything for humans goes to stderr.
    const human = flags.json ? process.stderr : process.stdout;
    human.write(`run ${workflowId} started (${temporalUiUrl(config, workflowId)})\n`);
    if (flags.detach) {
      if (flags.json) console.log(JSON.stringify({ runId: workflowId, status: 'running' }));
      return undefined;
    }
    const logs = createLogStoreFromConfig(config);
    const status = await watchRun(client, handle, logs, workflowId, {
      write: (text) => human.write(text),
      live: Boolean(human.isTTY) && !process.env.CI,
      columns: human.columns,
    });
    if (status.status === 'success') {
      human.write(`run ${workflowId} succeeded (${temporalUiUrl(config, workflowId)})\n`);
    } else {
      process.stderr.write(`conveyor: run ${workflowId} ${status.status}: ${describeFailure(status)}\n`);
    }
    if (flags.json) console.log(JSON.stringify(toJsonSummary(workflowId, status)));
    return status;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = (error as Error).message;
    throw new CliError(`the run could not be started or followed: ${message}`);
  } finally {
    await connection.close();
  }
}
