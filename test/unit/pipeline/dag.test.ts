import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildJobGraph,
  createPlan,
  dependentsOf,
  ReadySet,
  shortestCycles,
  topologicalLevels,
} from '../../../pipeline';

/** A plan of jobs given as `name: dep dep` strings. */
function planOf(...lines: string[]) {
  const jobs = lines.map((line) => {
    const [name = '', dependencies = ''] = line.split(':');
    return { name: name.trim(), dependsOn: dependencies.split(' ').filter(Boolean) };
  });
  return createPlan({ jobs: jobs as never });
}

describe('Kahn levels for the design documents’ graph shapes', () => {
  test('linear A→B→C→D', () => {
    assert.deepEqual(planOf('A', 'B: A', 'C: B', 'D: C').levels, [['A'], ['B'], ['C'], ['D']]);
  });

  test('diamond A→B,C→D', () => {
    assert.deepEqual(planOf('A', 'B: A', 'C: A', 'D: B C').levels, [['A'], ['B', 'C'], ['D']]);
  });

  test('several roots A,B→C,D→E', () => {
    assert.deepEqual(planOf('A', 'B', 'C: A B', 'D: A B', 'E: C D').levels, [['A', 'B'], ['C', 'D'], ['E']]);
  });

  test('single job', () => {
    assert.deepEqual(planOf('single-job').levels, [['single-job']]);
  });

  test('a complex DAG places each job one level after its deepest dependency, in declaration order', () => {
    const plan = planOf(
      'lint',
      'build',
      'unit: build',
      'e2e: build lint',
      'package: unit',
      'deploy: package e2e',
      'docs',
    );
    assert.deepEqual(plan.levels, [['lint', 'build', 'docs'], ['unit', 'e2e'], ['package'], ['deploy']]);
    assert.equal(plan.maxParallelism, 3);
  });

  test('levels do not depend on declaration order of dependents', () => {
    assert.deepEqual(planOf('D: B C', 'C: A', 'B: A', 'A').levels, [['A'], ['C', 'B'], ['D']]);
  });
});

describe('critical path and dependents', () => {
  test('the critical path is the longest chain, in run order', () => {
    const plan = planOf('lint', 'build', 'unit: build', 'e2e: build lint', 'package: unit', 'deploy: package e2e');
    assert.deepEqual(plan.criticalPath, ['build', 'unit', 'package', 'deploy']);
  });

  test('a weight per job (e.g. past durations) changes the critical path', () => {
    const jobs = [
      { name: 'fast', dependsOn: [] },
      { name: 'slow', dependsOn: [] },
      { name: 'end', dependsOn: ['fast', 'slow'] },
    ];
    assert.deepEqual(createPlan({ jobs: jobs as never }, (job) => (job === 'slow' ? 600 : 10)).criticalPath, [
      'slow',
      'end',
    ]);
  });

  test('transitive dependents are every job downstream, each once', () => {
    const plan = planOf('A', 'B: A', 'C: A', 'D: B C', 'E', 'F: D');
    assert.deepEqual(dependentsOf(plan, 'A'), ['B', 'C', 'D', 'F']);
    assert.deepEqual(dependentsOf(plan, 'E'), []);
    assert.deepEqual(dependentsOf(plan, 'nope'), []);
  });

  test('the plan is plain JSON and survives a round trip', () => {
    const plan = planOf('A', 'B: A');
    assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
    assert.deepEqual(plan.dependents, { A: ['B'], B: [] });
  });
});

describe('ready-set bookkeeping', () => {
  test('completing a job releases exactly the dependents whose last dependency it was', () => {
    const ready = new ReadySet(planOf('A', 'B: A', 'C: A', 'D: B C'));
    assert.deepEqual(ready.roots(), ['A']);
    assert.deepEqual(ready.complete('A'), ['B', 'C']);
    assert.deepEqual(ready.complete('B'), []);
    assert.equal(ready.pendingDependencies('D'), 1);
    assert.deepEqual(ready.complete('C'), ['D']);
    assert.deepEqual(ready.complete('C'), [], 'completing twice releases nothing');
    assert.equal(ready.done, false);
    ready.complete('D');
    assert.equal(ready.done, true);
  });

  test('restore rebuilds the state from the finished jobs', () => {
    const plan = planOf('A', 'B: A', 'C: A', 'D: B C');
    const ready = ReadySet.restore(plan, ['A', 'B']);
    assert.deepEqual(ready.ready(), ['C']);
    assert.deepEqual(ready.complete('C'), ['D']);
  });

  test('each completion touches only its own dependents (a long chain costs one step per job)', () => {
    const size = 20_000;
    const jobs = Array.from({ length: size }, (_, index) => ({
      name: `j${index}`,
      dependsOn: index === 0 ? [] : [`j${index - 1}`],
    }));
    const ready = new ReadySet(createPlan({ jobs: jobs as never }));
    let released = ready.roots();
    let completions = 0;
    while (released.length > 0) {
      const [next] = released;
      released = ready.complete(next ?? '');
      completions++;
    }
    assert.equal(completions, size);
    assert.equal(ready.done, true);
  });
});

describe('cycle detection', () => {
  test('jobs in or behind a cycle are blocked; the shortest cycle is reported once per tangle', () => {
    const graph = buildJobGraph([
      { name: 'a', dependsOn: ['b'] },
      { name: 'b', dependsOn: ['a', 'c'] },
      { name: 'c', dependsOn: ['a'] },
      { name: 'd', dependsOn: ['a'] },
      { name: 'e', dependsOn: [] },
    ]);
    const { levels, blocked } = topologicalLevels(graph);
    assert.deepEqual(levels, [[4]]);
    assert.deepEqual(blocked, [0, 1, 2, 3]);
    assert.deepEqual(shortestCycles(graph, blocked), [[0, 1]]);
  });

  test('a long cycle is found without recursion limits', () => {
    const size = 5000;
    const jobs = Array.from({ length: size }, (_, index) => ({
      name: `j${index}`,
      dependsOn: [`j${(index + 1) % size}`],
    }));
    const graph = buildJobGraph(jobs);
    const cycles = shortestCycles(graph, topologicalLevels(graph).blocked);
    assert.equal(cycles.length, 1);
    assert.equal(cycles[0]?.length, size);
    assert.equal(cycles[0]?.[0], 0);
  });
});
