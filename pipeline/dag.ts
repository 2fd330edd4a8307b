/**
 * The job graph, on integer indices for speed: `dependsOn[i]` are the jobs job `i` waits for, `dependents[i]` the
 * jobs waiting for it. Jobs keep their declaration order, which breaks every tie deterministically.
 */
export interface JobGraph {
  names: readonly string[];
  indexOf: ReadonlyMap<string, number>;
  dependsOn: readonly (readonly number[])[];
  dependents: readonly (readonly number[])[];
}

/** Builds the graph; dependencies on unknown names are ignored (validation reports them) and duplicates merged. */
export function buildJobGraph(jobs: ReadonlyArray<{ name: string; dependsOn: readonly string[] }>): JobGraph {
  const names = jobs.map((job) => job.name);
  const indexOf = new Map<string, number>();
  names.forEach((name, index) => {
    if (!indexOf.has(name)) indexOf.set(name, index);
  });
  const dependents: number[][] = names.map(() => []);
  const dependsOn = jobs.map((job, index) => {
    const unique = new Set<number>();
    for (const dependency of job.dependsOn) {
      const target = indexOf.get(dependency);
      if (target !== undefined) unique.add(target);
    }
    for (const target of unique) dependents[target]?.push(index);
    return [...unique];
  });
  return { names, indexOf, dependsOn, dependents };
}

/**
 * Kahn's algorithm by levels: level 0 holds the jobs with no dependencies, level n the jobs whose last dependency
 * is in level n-1. Jobs in or behind a cycle never reach a level and are returned as `blocked`. Linear in jobs
 * plus edges; the graph is not modified.
 */
export function topologicalLevels(graph: JobGraph): { levels: number[][]; blocked: number[] } {
  const remaining = graph.dependsOn.map((dependencies) => dependencies.length);
  let current: number[] = [];
  remaining.forEach((count, index) => {
    if (count === 0) current.push(index);
  });
  const levels: number[][] = [];
  let placed = 0;
  while (current.length > 0) {
    levels.push(current);
    placed += current.length;
    const next: number[] = [];
    for (const job of current) {
      for (const dependent of graph.dependents[job] ?? []) {
        const left = (remaining[dependent] ?? 0) - 1;
        remaining[dependent] = left;
        if (left === 0) next.push(dependent);
      }
    }
    current = next.sort((a, b) => a - b);
  }
  const blocked = placed === graph.names.length ? [] : remaining.flatMap((count, index) => (count > 0 ? [index] : []));
  return { levels, blocked };
}

/**
 * The longest chain of dependencies by total weight (default: one per job), from a root to a leaf, in run
 * order. Needs an acyclic graph's levels.
 */
export function criticalPath(
  graph: JobGraph,
  levels: readonly number[][],
  weight: (job: number) => number = () => 1,
): number[] {
  const best = new Array<number>(graph.names.length).fill(0);
  const previous = new Array<number>(graph.names.length).fill(-1);
  let end = -1;
  for (const level of levels) {
    for (const job of level) {
      let start = 0;
      for (const dependency of graph.dependsOn[job] ?? []) {
        const candidate = best[dependency] ?? 0;
        if (candidate > start) {
          start = candidate;
          previous[job] = dependency;
        }
      }
      best[job] = start + weight(job);
      if (end === -1 || (best[job] ?? 0) > (best[end] ?? 0)) end = job;
    }
  }
  const path: number[] = [];
  for (let job = end; job !== -1; job = previous[job] ?? -1) path.push(job);
  return path.reverse();
}

/** Every job that depends on `start`, directly or through others (breadth-first, each once). */
export function transitiveDependents(graph: JobGraph, start: number): number[] {
  const seen = new Set<number>([start]);
  const queue = [start];
  const result: number[] = [];
  for (let head = 0; head < queue.length; head++) {
    for (const dependent of graph.dependents[queue[head] ?? 0] ?? []) {
      if (seen.has(dependent)) continue;
      seen.add(dependent);
      queue.push(dependent);
      result.push(dependent);
    }
  }
  return result;
}

/**
 * Direct dependencies already implied by another dependency (`deploy → test → build` makes `deploy → build`
 * redundant). Uses ancestor bitsets in topological order: about jobs × dependencies × jobs/32 word operations.
 */
export function redundantDependencies(
  graph: JobGraph,
  levels: readonly number[][],
): Array<{ job: number; dependency: number; via: number }> {
  const words = Math.ceil(graph.names.length / 32);
  const ancestors: Uint32Array[] = new Array<Uint32Array>(graph.names.length);
  const found: Array<{ job: number; dependency: number; via: number }> = [];
  for (const level of levels) {
    for (const job of level) {
      const set = new Uint32Array(words);
      const dependencies = graph.dependsOn[job] ?? [];
      for (const dependency of dependencies) {
        const inherited = ancestors[dependency];
        if (inherited) for (let word = 0; word < words; word++) set[word] = (set[word] ?? 0) | (inherited[word] ?? 0);
      }
      if (dependencies.length > 1) {
        for (const dependency of dependencies) {
          if (!has(set, dependency)) continue;
          const via = dependencies.find((other) => other !== dependency && has(ancestors[other], dependency));
          if (via !== undefined) found.push({ job, dependency, via });
        }
      }
      for (const dependency of dependencies)
        set[dependency >>> 5] = (set[dependency >>> 5] ?? 0) | (1 << (dependency & 31));
      ancestors[job] = set;
    }
  }
  return found;
}

function has(set: Uint32Array | undefined, index: number): boolean {
  return set !== undefined && ((set[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
}
