/**
 * The pipeline language: YAML → validated, variable-resolved, matrix-expanded model; expressions; variables;
 * the job DAG and its plan. Pure (no Node builtins, no I/O), so workflows may import it.
 */
export { parsePipeline, defaultStepImage, type ParseOptions, type ParseResult } from './parse-pipeline';
export type {
  ArtifactModel,
  Diagnostic,
  JobModel,
  MatrixStrategyModel,
  PipelineModel,
  StepModel,
  TriggersModel,
  ConcurrencyGroupModel,
  CheckoutModel,
} from './model';
export { diagnosticCodes, diagnosticReference, type DiagnosticCode } from './diagnostic-codes';
export { formatPath, type PathSegment } from './path';
export {
  checkExpression,
  evaluateExpression,
  parseExpression,
  usesStatusFunction,
  type EvaluationResult,
  type ExpressionProblem,
  type ExpressionScope,
  type ParseExpressionResult,
} from './expression';
export type { ExpressionValue } from './expression-ast';
export type { ExpressionContext, JobResult } from './expression-context';
export { isTruthy, toText } from './expression-coercion';
export { createPlan, dependentsOf, type ExecutionPlan } from './plan';
export { ReadySet } from './ready-set';
export { buildJobGraph, criticalPath, topologicalLevels, transitiveDependents, type JobGraph } from './dag';
export { shortestCycles } from './dag-cycles';
export { parseDuration, formatDuration } from './duration';
export {
  expandMatrix,
  expandedJobName,
  type MatrixCombination,
  type MatrixDefinition,
  type MatrixValue,
} from './matrix';
export {
  resolveRunTimeVariables,
  secretReferences,
  type RunTimeResolution,
  type RunTimeValues,
} from './run-time-variables';
export { createVariableSnapshot, type VariableSnapshot } from './variable-snapshot';
export { decideJob, conditionContext, combineResults, type FinishedJob, type JobDecision } from './job-condition';
export { runTimeSystemVariables } from './scope';
