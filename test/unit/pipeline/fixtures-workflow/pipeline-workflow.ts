/**
 * A tiny workflow that uses pipeline/ the way the run workflow does; bundled by workflow-bundle.test.ts to prove
 * that pipeline/ (with yaml and zod) fits the workflow sandbox without Node builtins.
 */
import { createPlan, evaluateExpression, parsePipeline } from '../../../../pipeline';

/** Parses a pipeline and returns its levels and whether its first job's condition holds. */
export async function pipelineWorkflow(source: string): Promise<{ levels: string[][]; condition: boolean }> {
  const result = parsePipeline(source);
  if (!result.valid) return { levels: [], condition: false };
  const condition = evaluateExpression(result.pipeline.jobs[0]?.if ?? 'true', {});
  return { levels: createPlan(result.pipeline).levels, condition: condition.ok && condition.value === true };
}
