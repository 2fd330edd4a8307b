/**
 * `conveyor plan FILE [--var K=V]… [--json]`: how a pipeline would run — its jobs after matrix expansion, the
 * levels of its DAG and its critical path. Exit codes as `conveyor validate`.
 */
import type { Command } from 'commander';
import type { ExecutionPlan } from '../../pipeline';
import { collectFlag } from '../flags';
import type { CommandOutput, PipelineCommandOptions } from '../pipeline-report';

/** Adds `conveyor plan` to the program. */
export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('show the jobs, execution levels and critical path of a pipeline without running it')
    .argument('<file>', 'pipeline YAML file')
    .option('--var <name=value>', 'runtime variable, highest precedence (repeatable)', collectFlag, [])
    .option('--json', 'print {"jobs", "levels", "criticalPath"} as JSON')
    .action(async (file: string, options: PipelineCommandOptions) => {
      process.exitCode = await runPlan(file, options);
    });
}

/** Runs `plan` (writing to `output`, by default the process's stdout and stderr); returns the exit code. */
export async function runPlan(file: string, options: PipelineCommandOptions, output?: CommandOutput): Promise<number> {
  // Loaded here, not at the top, so `conveyor --help` never loads the pipeline language (docs/runs.md#start-up).
  const [report, { createPlan }] = await Promise.all([
    import('../pipeline-report.js'),
    import('../../pipeline/index.js'),
  ]);
  const { jsonDiagnostic, writeDiagnostics } = report;
  output ??= report.processOutput;
  const loaded = await report.loadAndParse(file, options, output);
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
