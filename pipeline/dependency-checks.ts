import { buildJobGraph, redundantDependencies, topologicalLevels } from './dag';
import { shortestCycles } from './dag-cycles';
import { didYouMean, listNames } from './did-you-mean';
import type { DiagnosticCollector } from './diagnostics';
import type { JobDeclaration } from './job-expansion';

/**
 * Checks the dependency graph of the declared jobs (before matrix expansion, which cannot add cycles): unknown
 * names with a did-you-mean, self-dependencies, the shortest cycle of each tangle with the edge to remove, and
 * warnings for dependencies already implied by others.
 */
export function checkDependencies(declarations: readonly JobDeclaration[], collector: DiagnosticCollector): void {
  const names = declarations.map((declaration) => declaration.name);
  const known = new Set(names);
  for (const declaration of declarations) {
    for (const dependency of declaration.dependencies) {
      if (known.has(dependency.name)) continue;
      collector.error({
        code: 'unknown_dependency',
        problem: `unknown job '${dependency.name}'${didYouMean(dependency.name, names)}`,
        path: dependency.path,
        hint: `depend on jobs defined under jobs: ${listNames(names)}`,
      });
    }
  }

  const graph = buildJobGraph(
    declarations.map((declaration) => ({
      name: declaration.name,
      dependsOn: declaration.dependencies.map((dependency) => dependency.name),
    })),
  );
  const { levels, blocked } = topologicalLevels(graph);
  if (blocked.length > 0) {
    for (const cycle of shortestCycles(graph, blocked)) reportCycle(cycle, declarations, collector);
    return;
  }
  for (const { job, dependency, via } of redundantDependencies(graph, levels)) {
    const declaration = declarations[job];
    const dependencyName = names[dependency] ?? '';
    const written = declaration?.dependencies.find((entry) => entry.name === dependencyName);
    if (!declaration || !written) continue;
    collector.warning({
      code: 'redundant_dependency',
      problem: `'${dependencyName}' is already a dependency of '${names[via]}', so listing it here is redundant`,
      path: written.path,
      hint: `remove '${dependencyName}' from this list; '${declaration.name}' still waits for it through '${names[via]}'`,
    });
  }
}

function reportCycle(cycle: number[], declarations: readonly JobDeclaration[], collector: DiagnosticCollector): void {
  const cycleNames = cycle.map((index) => declarations[index]?.name ?? '');
  const first = cycleNames[0] ?? '';
  const last = declarations[cycle[cycle.length - 1] ?? 0];
  const edge = last?.dependencies.find((dependency) => dependency.name === first);
  if (!last || !edge) return;
  if (cycle.length === 1) {
    collector.error({
      code: 'dependency_cycle',
      problem: `job '${first}' depends on itself`,
      path: edge.path,
      hint: `remove '${first}' from its own dependencies`,
    });
    return;
  }
  collector.error({
    code: 'dependency_cycle',
    problem: `dependency cycle ${[...cycleNames, first].join(' → ')} (→ means "depends on")`,
    path: edge.path,
    hint: `remove '${first}' from the dependencies of '${last.name}' to break the cycle, or split one of the jobs so the dependency runs one way`,
  });
}
