/** Readable, deterministic ids for the workflows a run starts (DESIGN.md §5 Visibility). */

/**
 * The child workflow of one job: `<run>.<index>-<job>`, e.g. `run-hello-01j….1-test-node-18`. The index (the
 * job's position in the pipeline) keeps ids unique even when two names clean up to the same text.
 */
export function childWorkflowId(runId: string, index: number, jobName: string): string {
  const cleaned = jobName
    .replace(/[^a-zA-Z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `${runId}.${index}-${cleaned || 'job'}`;
}
