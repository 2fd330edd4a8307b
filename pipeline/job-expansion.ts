import { checkExpression } from './expression';
import { conditionContextNames } from './expression-context';
import type { DiagnosticCollector } from './diagnostics';
import { checkJob } from './job-checks';
import { simpleJobInput } from './job-fast-check';
import { expandMatrix, expandedJobName, misspeltMatrixKeys, type MatrixCombination } from './matrix';
import type { MatrixStrategyModel } from './model';
import type { PathSegment } from './path';
import { jobSchema, matrixSchema, type JobInput } from './schema';
import { reportSchemaIssues } from './schema-issues';
import { createScope, type Scope } from './scope';
import { environmentValues, substituteEnvironment, substituteTree, type ProblemReporter } from './substitute';

/** One expansion of a job, schema-valid, with its variables resolved. */
export interface JobInstance {
  name: string;
  matrix?: MatrixCombination;
  input: JobInput;
  /** The `if:` expression (variables resolved, `${{ }}` unwrapped). */
  condition?: string;
}

/** A job as declared under `jobs:`, with its expansions. */
export interface JobDeclaration {
  name: string;
  /** Dependencies as written, with where each is written. */
  dependencies: Array<{ name: string; path: PathSegment[] }>;
  /** Expansions that passed every check (empty when the job has errors). */
  instances: JobInstance[];
  strategy?: MatrixStrategyModel;
}

/** Shared inputs for expanding every job. */
export interface ExpansionContext {
  runtime: Readonly<Record<string, string>>;
  system: Readonly<Record<string, string>>;
  globalEnvironment: Readonly<Record<string, string>>;
  collector: DiagnosticCollector;
}

const notSubstituted = new Set(['matrix', 'depends_on', 'needs', 'if', 'conditional', 'steps', 'environment']);

/**
 * Expands one job: its matrix, then per combination its variables and `${{ }}` expressions, the schema and the
 * job's own checks. Every problem goes to the collector (once, however many expansions share it).
 */
export function expandJob(name: string, raw: unknown, context: ExpansionContext): JobDeclaration {
  const path: PathSegment[] = ['jobs', name];
  const { collector } = context;
  const declaration: JobDeclaration = { name, dependencies: [], instances: [] };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    reportSchemaIssues(
      jobSchema.safeParse(raw).error?.issues ?? [],
      { prefix: path, input: raw, schema: jobSchema },
      collector,
    );
    return declaration;
  }
  const job = raw as Record<string, unknown>;
  declaration.dependencies = readDependencies(job, path, collector);

  let combinations: Array<MatrixCombination | undefined> = [undefined];
  if (job.matrix !== undefined) {
    const misspelt = misspeltMatrixKeys(job.matrix);
    for (const problem of misspelt) {
      collector.error({
        code: 'matrix',
        problem: problem.problem,
        path: [...path, 'matrix', ...problem.path],
        hint: problem.hint,
        atKey: true,
      });
    }
    if (misspelt.length > 0) return declaration;
    const parsed = matrixSchema.safeParse(job.matrix);
    if (!parsed.success) {
      const options = {
        prefix: [...path, 'matrix'],
        input: job.matrix,
        schema: matrixSchema,
        defaultCode: 'matrix' as const,
      };
      reportSchemaIssues(parsed.error.issues, options, collector);
      return declaration;
    }
    const expansion = expandMatrix(parsed.data);
    for (const problem of expansion.problems) {
      collector.error({
        code: 'matrix',
        problem: problem.problem,
        path: [...path, 'matrix', ...problem.path],
        hint: problem.hint,
        atKey: problem.atKey,
      });
    }
    if (expansion.problems.length > 0) return declaration;
    combinations = expansion.combinations;
    declaration.strategy = { failFast: parsed.data.fail_fast ?? true, maxParallel: parsed.data.max_parallel };
  }

  let valid = true;
  const instances: JobInstance[] = [];
  for (const combination of combinations) {
    const instance = expandInstance(name, job, combination, declaration, context);
    if (instance) instances.push(instance);
    else valid = false;
  }
  declaration.instances = valid ? instances : [];
  return declaration;
}

function expandInstance(
  name: string,
  job: Record<string, unknown>,
  matrix: MatrixCombination | undefined,
  declaration: JobDeclaration,
  context: ExpansionContext,
): JobInstance | undefined {
  const path: PathSegment[] = ['jobs', name];
  const { collector } = context;
  const errorsBefore = collector.errorCount;
  const instanceName = matrix ? expandedJobName(name, matrix) : name;
  const report: ProblemReporter = (problemPath, problem) =>
    collector.error({
      code: problem.code,
      problem: problem.message,
      path: problemPath,
      hint: problem.hint,
      needle: problem.raw,
    });
  const system = { ...context.system, CONVEYOR_JOB: instanceName };
  const jobEnvironment = environmentValues(job.environment);
  const scope = createScope({
    runtime: context.runtime,
    system,
    global: context.globalEnvironment,
    job: jobEnvironment,
    matrix,
  });

  const substituted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(job)) {
    if (key === 'matrix') continue;
    if (key === 'environment') {
      substituted[key] = substituteEnvironment(value, [...path, key], scope, scope.layerIndex.job ?? 0, report);
    } else if (key === 'steps' && Array.isArray(value)) {
      substituted[key] = value.map((step, index) =>
        substituteStep(
          step,
          [...path, 'steps', index],
          { context, system, jobEnvironment, jobScope: scope, matrix },
          report,
        ),
      );
    } else {
      substituted[key] = notSubstituted.has(key) ? value : substituteTree(value, [...path, key], scope, report);
    }
  }
  if (job.if !== undefined && job.conditional !== undefined) {
    collector.error({
      code: 'schema',
      problem: 'both if and conditional are given',
      path: [...path, 'conditional'],
      atKey: true,
      hint: 'keep one: conditional is an alias of if',
    });
  }
  const conditionKey = job.if !== undefined ? 'if' : 'conditional';
  const condition = readCondition(
    job[conditionKey],
    [...path, conditionKey],
    declaration,
    matrix,
    context,
    scope.resolver,
    report,
  );

  // Common jobs skip the schema's parser (same output, pipeline/job-fast-check.ts); the rest, and every error, go
  // through it.
  const simple = simpleJobInput(substituted);
  const parsed = simple ? ({ success: true, data: simple } as const) : jobSchema.safeParse(substituted);
  if (!parsed.success) {
    reportSchemaIssues(parsed.error.issues, { prefix: path, input: substituted, schema: jobSchema }, collector);
  }
  checkJob(substituted, path, collector);
  if (!parsed.success || collector.errorCount > errorsBefore) return undefined;
  return { name: instanceName, matrix, input: parsed.data, condition };
}

function substituteStep(
  step: unknown,
  path: PathSegment[],
  job: {
    context: ExpansionContext;
    system: Record<string, string>;
    jobEnvironment: Record<string, string>;
    jobScope: Scope;
    matrix: MatrixCombination | undefined;
  },
  report: ProblemReporter,
): unknown {
  if (typeof step !== 'object' || step === null || Array.isArray(step)) return step;
  const raw = step as Record<string, unknown>;
  // A step's scope adds only its environment and CONVEYOR_STEP to its job's. A step without an environment whose
  // text names neither (nor evaluates `${{ }}`, which sees the whole environment) resolves the same in the job's
  // scope, whose resolved variables are already cached: a large pipeline is mostly such steps. Any problem is
  // looked at again in the step's own scope, so messages (e.g. the names a did-you-mean offers) stay the same.
  if (raw.environment === undefined && !mentionsStepScope(raw)) {
    let problems = false;
    const substituted = substituteTree(step, path, job.jobScope, () => (problems = true));
    if (!problems) return substituted;
  }
  const system = typeof raw.name === 'string' ? { ...job.system, CONVEYOR_STEP: raw.name } : job.system;
  const scope = createScope({
    runtime: job.context.runtime,
    system,
    global: job.context.globalEnvironment,
    job: job.jobEnvironment,
    step: environmentValues(raw.environment),
    matrix: job.matrix,
  });
  return substituteTree(step, path, scope, report, scope.layerIndex.step ?? 0);
}

/** Whether any string in a value could read what only a step's own scope has: CONVEYOR_STEP, or `${{ }}`. */
function mentionsStepScope(value: unknown): boolean {
  if (typeof value === 'string')
    return value.includes('$') && (value.includes('${{') || value.includes('CONVEYOR_STEP'));
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(mentionsStepScope);
  for (const key of Object.keys(value)) if (mentionsStepScope((value as Record<string, unknown>)[key])) return true;
  return false;
}

function readDependencies(
  job: Record<string, unknown>,
  path: PathSegment[],
  collector: DiagnosticCollector,
): Array<{ name: string; path: PathSegment[] }> {
  if (job.depends_on !== undefined && job.needs !== undefined) {
    collector.error({
      code: 'schema',
      problem: 'both depends_on and needs are given',
      path: [...path, 'needs'],
      atKey: true,
      hint: 'keep one list: needs is an alias of depends_on',
    });
  }
  const key = job.depends_on !== undefined ? 'depends_on' : 'needs';
  const value = job[key];
  if (typeof value === 'string') return [{ name: value, path: [...path, key] }];
  if (!Array.isArray(value)) return [];
  return value.flatMap((item, index) =>
    typeof item === 'string' ? [{ name: item, path: [...path, key, index] }] : [],
  );
}

function readCondition(
  raw: unknown,
  path: PathSegment[],
  declaration: JobDeclaration,
  matrix: MatrixCombination | undefined,
  context: ExpansionContext,
  resolver: ReturnType<typeof createScope>['resolver'],
  report: ProblemReporter,
): string | undefined {
  if (raw === true || raw === undefined) return undefined;
  if (raw === false) return 'false';
  if (typeof raw !== 'string') return undefined;
  // `${VAR}` is resolved now; `${{ }}` is kept for the run, which evaluates the condition when the job is ready.
  const withVariables = raw.includes('${') ? substituteConditionVariables(raw, resolver, path, report) : raw;
  const source = withVariables.replace(/\$\{\{([\s\S]*?)\}\}/g, (_match, inner: string) => `(${inner.trim()})`);
  const problems = checkExpression(source, {
    contexts: conditionContextNames,
    statusFunctions: true,
    needs: declaration.dependencies.map((dependency) => dependency.name),
    matrixAxes: matrix ? Object.keys(matrix) : [],
  });
  for (const problem of problems) {
    context.collector.error({
      code: problem.code,
      problem: problem.message,
      path,
      hint: problem.hint,
      offset: source === raw ? problem.offset : undefined,
    });
  }
  return source.trim() === '' ? undefined : source;
}

function substituteConditionVariables(
  raw: string,
  resolver: ReturnType<typeof createScope>['resolver'],
  path: PathSegment[],
  report: ProblemReporter,
): string {
  // Keep each `${{ … }}` out of variable substitution by splitting around it.
  return raw
    .split(/(\$\{\{[\s\S]*?\}\})/)
    .map((part) => {
      if (part.startsWith('${{')) return part;
      const result = resolver.resolve(part);
      for (const problem of result.problems) report(path, problem);
      return result.text.replace(/\$\$\{/g, '${');
    })
    .join('');
}
