/**
 * `conveyor plan FILE [--var K=V]… [--json]`: how a pipeline would run — its jobs after matrix expansion, the
 * levels of its DAG and its critical path. Exit codes as `conveyor validate`.
 */
import type { Command } from 'commander';
import { createPlan, type ExecutionPlan } from '../../pipeline';
import {
  collectFlag,
  jsonDiagnostic,
  loadAndParse,
  writeDiagnostics,
  type CommandOutput,
  type PipelineCommandOptions,
} from './validate';

const processOutput: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Adds `conveyor plan` to the program. */
export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('show the jobs, execution levels and critical path of a pipeline without running it')
    .argument('<file>', 'pipeline YAML file')
    .option('--var <name=value>', 'runtime variable, highest precedence (repeatable)', collectFlag, [])
    .option('--json', 'print {"jobs", "levels", "criticalPath"} as JSON')
    .action(async (file: string, options: PipelineCommandOptions) => {
      process.exitCode = await runPlan(file, options, processOutput);
    });
}

/** Runs `plan`; returns the exit code. */
export async function runPlan(file: string, options: PipelineCommandOptions, output: CommandOutput): Promise<number> {
  const loaded = await loadAndParse(file, options, output);
  if ('exitCode' in loaded) return loaded.exitCode;
  const { result } = loaded;
  if (!result.valid) {
    if (options.json) {
      const report = {
        valid: false,
        errors: result.errors.map(jsonDiagnostic),
        warnings: result.warnings.map(jsonDiagnostic),
      };
      output.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      writeDiagnostics(file, result.errors, result.warnings, output.stderr);
      output.stderr(`${file}: invalid, nothing to plan\n`);
    }
    return 1;
  }
  const plan = createPlan(result.pipeline);
  if (options.json) {
    output.stdout(
      `${JSON.stringify({ jobs: plan.jobs, levels: plan.levels, criticalPath: plan.criticalPath }, null, 2)}\n`,
    );
    return 0;
  }
  writeDiagnostics(file, [], result.warnings, output.stderr);
  output.stdout(formatPlan(result.pipeline.name, plan));
  return 0;
}

/** The human form of a plan. */
export function formatPlan(name: string, plan: ExecutionPlan): string {
  const jobs = plan.jobs.length;
  const lines = [
    `pipeline ${name}: ${jobs} job${jobs === 1 ? '' : 's'} in ${plan.levels.length} level${plan.levels.length === 1 ? '' : 's'}, up to ${plan.maxParallelism} at once`,
    '',
    ...plan.levels.map((level, index) => `level ${index + 1}: ${level.join(', ')}`),
    '',
    `critical path (${plan.criticalPath.length} job${plan.criticalPath.length === 1 ? '' : 's'}): ${plan.criticalPath.join(' → ')}`,
  ];
  return `${lines.join('\n')}\n`;
}
