import { buildJobGraph, criticalPath, topologicalLevels, transitiveDependents } from './dag';
import type { PipelineModel } from './model';

/** A run's plan as plain JSON: what `conveyor plan` prints and what a run can record. */
export interface ExecutionPlan {
  /** Job names in declaration order (after matrix expansion). */
  jobs: string[];
  /** Kahn levels: every job of a level can run once the earlier levels are done. */
  levels: string[][];
  /** The longest chain of dependencies, in run order. */
  criticalPath: string[];
  /** Direct dependencies by job. */
  dependsOn: Record<string, string[]>;
  /** Direct dependents by job. */
  dependents: Record<string, string[]>;
  /** Jobs in the widest level: the most that can ever run at once. */
  maxParallelism: number;
}

/**
 * Plans a validated pipeline: levels, critical path (by job count unless `weight` gives a duration per job, e.g.
 * from history) and the dependency maps. Linear in jobs plus dependencies.
 */
export function createPlan(pipeline: Pick<PipelineModel, 'jobs'>, weight?: (job: string) => number): ExecutionPlan {
  const graph = buildJobGraph(pipeline.jobs);
  const { levels } = topologicalLevels(graph);
  const name = (index: number): string => graph.names[index] ?? '';
  const path = criticalPath(graph, levels, weight ? (index) => weight(name(index)) : undefined);
  const dependsOn: Record<string, string[]> = {};
  const dependents: Record<string, string[]> = {};
  graph.names.forEach((job, index) => {
    dependsOn[job] = (graph.dependsOn[index] ?? []).map(name);
    dependents[job] = (graph.dependents[index] ?? []).map(name);
  });
  return {
    jobs: [...graph.names],
    levels: levels.map((level) => level.map(name)),
    criticalPath: path.map(name),
    dependsOn,
    dependents,
    maxParallelism: Math.max(0, ...levels.map((level) => level.length)),
  };
}

/**
 * Every job downstream of `job` in a plan — the jobs a failure of `job` skips unless their `if:` says otherwise.
 * Breadth-first order; `job` itself excluded.
 */
export function dependentsOf(plan: Pick<ExecutionPlan, 'jobs' | 'dependsOn'>, job: string): string[] {
  const graph = buildJobGraph(plan.jobs.map((name) => ({ name, dependsOn: plan.dependsOn[name] ?? [] })));
  const start = graph.indexOf.get(job);
  if (start === undefined) return [];
  return transitiveDependents(graph, start).map((index) => graph.names[index] ?? '');
}
