import { checkBuildImages } from './build-image-checks';
import { checkDependencies } from './dependency-checks';
import { DiagnosticCollector } from './diagnostics';
import { checkImage } from './job-checks';
import { expandJob, type JobDeclaration } from './job-expansion';
import type { Diagnostic, PipelineModel } from './model';
import { manualInputDefaults } from './manual-inputs';
import { buildPipelineModel } from './model-builder';
import { jobNamePattern, maxJobNameLength, pipelineHeaderSchema, variableNamePattern } from './schema';
import { reportSchemaIssues } from './schema-issues';
import { createScope } from './scope';
import { environmentValues, substituteEnvironment, substituteTree, type ProblemReporter } from './substitute';
import { readYamlFast } from './yaml-fast-source';
import { readYaml } from './yaml-source';

/** Options of {@link parsePipeline}. */
export interface ParseOptions {
  /** The file name. Diagnostics do not repeat it (callers such as the CLI prefix `FILE:`); kept for callers' logs. */
  file?: string;
  /** Runtime variables (`--var K=V`): the highest precedence. */
  vars?: Record<string, string>;
  /**
   * System variables supplied by the environment (`CI`, `WORKSPACE`, `CONVEYOR_RUN_ID`, …). Built-ins are `CI=true`,
   * `CONVEYOR=true`, `WORKSPACE` and `CONVEYOR_WORKSPACE` (`/workspace`), `CONVEYOR_PIPELINE`, `CONVEYOR_JOB`,
   * `CONVEYOR_STEP`. Run-time ones not supplied here (`CONVEYOR_RUN_ID`, `CONVEYOR_RUN_NUMBER`, …) stay symbolic.
   */
  system?: Record<string, string>;
  /** Image for steps that name none and whose job names none. Default `ubuntu:20.04`. */
  defaultImage?: string;
  /**
   * How the YAML is read. `fast` (the default) tokenises with js-yaml and falls back to the `yaml` library
   * whenever the text uses something the fast reader does not reproduce exactly; `exact` always uses the `yaml`
   * library. Both give the same result; `exact` exists to check that, and to compare speed.
   */
  yamlEngine?: 'fast' | 'exact';
}

/** The outcome of {@link parsePipeline}: a valid model, or every error found. Warnings either way. */
export type ParseResult =
  | { valid: true; pipeline: PipelineModel; warnings: Diagnostic[] }
  | { valid: false; errors: Diagnostic[]; warnings: Diagnostic[] };

/** Default image of a step when neither it nor its job names one (per the design documents). */
export const defaultStepImage = 'ubuntu:20.04';
/** Largest pipeline file accepted, in characters. */
export const maxSourceLength = 10_000_000;

/**
 * Parses, validates, resolves and expands a pipeline file: YAML (with line and column for every node) → schema
 * → variables and `${{ }}` → matrix → dependency graph. Every problem is reported in one pass, each with a
 * stable code, a path such as `jobs.build.steps[0].image`, line, column and a hint. Pure and deterministic:
 * safe inside a workflow. Never throws.
 */
export function parsePipeline(source: string, options: ParseOptions = {}): ParseResult {
  try {
    return parse(source, options);
  } catch (error) {
    // A defect, not a user error: report it in the same structured form rather than crash the caller.
    const message = error instanceof Error ? error.message : String(error);
    const internal: Diagnostic = {
      code: 'internal_error',
      message: `the pipeline could not be checked: ${message}`,
      line: 1,
      column: 1,
      path: '',
      hint: 'this is a bug in Conveyor; please report it with the pipeline file',
    };
    return { valid: false, errors: [internal], warnings: [] };
  }
}

function parse(source: string, options: ParseOptions): ParseResult {
  if (source.length > maxSourceLength) {
    const error: Diagnostic = {
      code: 'yaml_syntax',
      message: `the file is larger than ${maxSourceLength / 1_000_000} MB`,
      line: 1,
      column: 1,
      path: '',
      hint: 'split the pipeline into smaller ones',
    };
    return { valid: false, errors: [error], warnings: [] };
  }
  const yaml = (options.yamlEngine !== 'exact' && readYamlFast(source)) || readYaml(source);
  const collector = new DiagnosticCollector(yaml.locator);
  for (const error of yaml.errors) collector.located(error);
  if (yaml.errors.length > 0) return invalid(collector);

  const document = yaml.value;
  if (document === null || document === undefined) {
    collector.error({
      code: 'schema',
      problem: 'the pipeline file is empty',
      path: [],
      hint: 'start with: name: my-pipeline, then jobs: {build: {steps: [{name: compile, script: ["make"]}]}}',
    });
    return invalid(collector);
  }
  if (typeof document !== 'object' || Array.isArray(document)) {
    collector.error({
      code: 'schema',
      problem: `the top level must be a mapping with name: and jobs:, not ${Array.isArray(document) ? 'a list' : `a ${typeof document}`}`,
      path: [],
      hint: 'start with: name: my-pipeline, then jobs: {build: {steps: [{name: compile, script: ["make"]}]}}',
    });
    return invalid(collector);
  }

  // Manual inputs' defaults are variables of every run; given values win (docs/triggers.md).
  const runtime = checkRuntimeVariables({ ...manualInputDefaults(document), ...options.vars }, collector);
  const defaultImage = options.defaultImage ?? defaultStepImage;
  checkImage(defaultImage, [], collector);
  const raw = document as Record<string, unknown>;
  const globalEnvironment = environmentValues(raw.global_env);
  const baseSystem: Record<string, string> = {
    CI: 'true',
    CONVEYOR: 'true',
    WORKSPACE: '/workspace',
    CONVEYOR_WORKSPACE: '/workspace',
    ...(typeof raw.name === 'string' ? { CONVEYOR_PIPELINE: raw.name } : {}),
    ...options.system,
  };
  const report: ProblemReporter = (path, problem) =>
    collector.error({ code: problem.code, problem: problem.message, path, hint: problem.hint, needle: problem.raw });

  const globalScope = createScope({ runtime, system: baseSystem, global: globalEnvironment });
  const header: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    // `x-` keys hold YAML anchors for reuse (as in Docker Compose); they are not part of the pipeline.
    if (key.startsWith('x-')) continue;
    if (key === 'jobs') header[key] = value;
    else if (key === 'global_env')
      header[key] = substituteEnvironment(value, [key], globalScope, globalScope.layerIndex.global, report);
    else header[key] = substituteTree(value, [key], globalScope, report);
  }
  const parsedHeader = pipelineHeaderSchema.safeParse(header);
  if (!parsedHeader.success) {
    reportSchemaIssues(
      parsedHeader.error.issues,
      { prefix: [], input: header, schema: pipelineHeaderSchema },
      collector,
    );
  }

  const declarations: JobDeclaration[] = [];
  const jobs = raw.jobs;
  if (typeof jobs === 'object' && jobs !== null && !Array.isArray(jobs)) {
    if (Object.keys(jobs).length === 0) {
      collector.error({
        code: 'schema',
        problem: 'a pipeline needs at least one job',
        path: ['jobs'],
        hint: 'add a job, e.g. jobs: {build: {steps: [{name: compile, script: ["make"]}]}}',
      });
    }
    const context = { runtime, system: baseSystem, globalEnvironment, collector };
    for (const [name, job] of Object.entries(jobs)) {
      checkJobName(name, collector);
      declarations.push(expandJob(name, job, context));
    }
    checkDependencies(declarations, collector);
    checkBuildImages(jobs as Record<string, unknown>, collector);
  }

  if (collector.errorCount > 0 || !parsedHeader.success) return invalid(collector);
  const pipeline = buildPipelineModel({ header: parsedHeader.data, declarations, runtime, defaultImage });
  return { valid: true, pipeline, warnings: collector.warnings() };
}

function invalid(collector: DiagnosticCollector): ParseResult {
  return { valid: false, errors: collector.errors(), warnings: collector.warnings() };
}

function checkJobName(name: string, collector: DiagnosticCollector): void {
  if (jobNamePattern.test(name) && name.length <= maxJobNameLength) return;
  const problem =
    name.length > maxJobNameLength
      ? `job name '${name.slice(0, 20)}…' is ${name.length} characters long; the limit is ${maxJobNameLength}`
      : `'${name}' is not a valid job name`;
  const suggestion = name
    .replace(/[^a-zA-Z0-9_-]+/g, '-')
    .replace(/^[^a-zA-Z]+/, '')
    .slice(0, maxJobNameLength);
  collector.error({
    code: 'invalid_name',
    problem,
    path: ['jobs', name],
    atKey: true,
    hint: `job names start with a letter, then letters, digits, _ or -, at most ${maxJobNameLength} characters${suggestion ? ` (e.g. '${suggestion}')` : ''}`,
  });
}

function checkRuntimeVariables(vars: Record<string, string>, collector: DiagnosticCollector): Record<string, string> {
  const runtime: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (variableNamePattern.test(name)) {
      Object.defineProperty(runtime, name, { value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    collector.error({
      code: 'invalid_name',
      problem: `--var '${name}' is not a valid variable name`,
      path: [],
      hint: 'variable names start with a letter or _, then letters, digits or _',
    });
  }
  return runtime;
}
