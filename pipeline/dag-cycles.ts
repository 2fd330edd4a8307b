import type { JobGraph } from './dag';

/** Breadth-first searches per strongly connected component; enough to find the shortest cycle in practice. */
const maxSearchesPerComponent = 500;

/**
 * The shortest dependency cycle in each strongly connected group of `candidates` (the jobs Kahn's algorithm
 * could not place). A cycle `[a, b, c]` reads "a depends on b, b on c, c on a"; it starts at the job declared
 * first, so the edge to suggest removing is the last one (c → a). A self-dependency is a cycle of one.
 */
export function shortestCycles(graph: JobGraph, candidates: readonly number[]): number[][] {
  const inCandidates = new Set(candidates);
  const cycles: number[][] = [];
  for (const component of stronglyConnectedComponents(graph, candidates, inCandidates)) {
    const members = new Set(component);
    const selfLoop = component.length === 1 && (graph.dependsOn[component[0] ?? -1] ?? []).includes(component[0] ?? -1);
    if (component.length === 1 && !selfLoop) continue;
    let best: number[] | undefined;
    for (const start of [...component].sort((a, b) => a - b).slice(0, maxSearchesPerComponent)) {
      const cycle = shortestCycleThrough(graph, start, members, best?.length);
      if (cycle && (!best || cycle.length < best.length)) best = cycle;
      if (best?.length === 1) break;
    }
    if (best) cycles.push(rotateToSmallest(best));
  }
  return cycles.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
}

function shortestCycleThrough(
  graph: JobGraph,
  start: number,
  members: Set<number>,
  bound?: number,
): number[] | undefined {
  const parent = new Map<number, number>([[start, -1]]);
  let frontier = [start];
  for (let length = 1; frontier.length > 0 && (bound === undefined || length < bound); length++) {
    const next: number[] = [];
    for (const job of frontier) {
      for (const dependency of graph.dependsOn[job] ?? []) {
        if (!members.has(dependency)) continue;
        if (dependency === start) {
          const cycle: number[] = [];
          for (let at = job; at !== -1; at = parent.get(at) ?? -1) cycle.push(at);
          return cycle.reverse();
        }
        if (parent.has(dependency)) continue;
        parent.set(dependency, job);
        next.push(dependency);
      }
    }
    frontier = next;
  }
  return undefined;
}

function rotateToSmallest(cycle: number[]): number[] {
  const smallest = cycle.indexOf(Math.min(...cycle));
  return [...cycle.slice(smallest), ...cycle.slice(0, smallest)];
}

/** Tarjan's algorithm, iterative so that long chains cannot overflow the stack. */
function stronglyConnectedComponents(
  graph: JobGraph,
  candidates: readonly number[],
  inCandidates: Set<number>,
): number[][] {
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (const root of candidates) {
    if (index.has(root)) continue;
    const work: Array<{ node: number; next: number }> = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: number; next: number };
      const edges = graph.dependsOn[frame.node] ?? [];
      if (frame.next < edges.length) {
        const target = edges[frame.next++] as number;
        if (!inCandidates.has(target)) continue;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(target) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: number[] = [];
        let member: number | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}
