/**
 * Which concurrency group a run belongs to (docs/triggers.md): the pipeline's `concurrency.group` with the run's
 * variables resolved, or — for a pull request event, when the pipeline names no group — one group per pull request
 * and pipeline that cancels older runs, so a new push to a pull request cancels that pull request's older runs.
 * Pure, used inside workflows.
 */
import type { ConcurrencyGroupModel, PipelineModel } from './model';
import { resolveRunTimeVariables } from './run-time-variables';
import { sourceVariables, type RunSource } from './source';

/** The run's group, if it has one. */
export function runConcurrencyGroup(
  pipeline: PipelineModel,
  source: RunSource | undefined,
  trigger: string,
): ConcurrencyGroupModel | undefined {
  if (pipeline.concurrency) {
    const system = { ...sourceVariables(source, trigger), CONVEYOR_PIPELINE: pipeline.name };
    const group = resolveRunTimeVariables(pipeline.concurrency.group, { system }).text;
    return { group, cancelInProgress: pipeline.concurrency.cancelInProgress };
  }
  if (source?.event === 'pull_request' && source.pullRequest) {
    const repository = source.provider?.repository ?? source.repository;
    return { group: `pr-${repository}-${source.pullRequest.number}-${pipeline.name}`, cancelInProgress: true };
  }
  return undefined;
}

/**
 * The workflow id of a group's coordinator: `concurrency-<readable>-<hash>`. The hash (FNV-1a of the exact name and
 * of the task queue) keeps two names that clean up to the same text apart, and groups of different task queues
 * (stacks sharing a Temporal namespace, tests) apart: a coordinator runs on the queue of the run that started it.
 */
export function concurrencyGroupWorkflowId(name: string, taskQueue = ''): string {
  const group = taskQueue ? `${taskQueue}\n${name}` : name;
  const readable = name
    .replace(/[^a-zA-Z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  let hash = 0x811c9dc5;
  for (let index = 0; index < group.length; index += 1) {
    hash ^= group.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `concurrency-${readable || 'group'}-${hash.toString(16).padStart(8, '0')}`;
}
