import { closestMatch, listNames } from './did-you-mean';
import type { PathSegment } from './path';
import { limits } from './schema';

/** One value of a matrix axis. */
export type MatrixValue = string | number | boolean;
/** One combination of matrix values: a job expansion. */
export type MatrixCombination = Record<string, MatrixValue>;

/** A matrix as written (after schema validation): axes of values plus the reserved keys. */
export type MatrixDefinition = {
  include?: readonly MatrixCombination[];
  exclude?: readonly MatrixCombination[];
  max_parallel?: number;
  fail_fast?: boolean;
} & Record<string, unknown>;

/** A problem with a matrix, relative to the matrix node. */
export interface MatrixProblem {
  problem: string;
  path: PathSegment[];
  hint: string;
  atKey?: boolean;
}

const reservedKeys = ['include', 'exclude', 'max_parallel', 'fail_fast'];
const axisNamePattern = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Expands a matrix into its combinations, GitHub Actions style: the cartesian product of the axes in the order
 * written, minus every combination matching an `exclude` entry (all of its keys), then each `include` entry is
 * merged into every combination whose original values it does not contradict, or added as a combination of its
 * own when it matches none.
 */
export function expandMatrix(matrix: MatrixDefinition): {
  combinations: MatrixCombination[];
  problems: MatrixProblem[];
} {
  const problems: MatrixProblem[] = [];
  const axes: Array<[string, MatrixValue[]]> = [];
  for (const [key, values] of Object.entries(matrix)) {
    if (reservedKeys.includes(key) || !Array.isArray(values)) continue;
    if (!axisNamePattern.test(key)) {
      problems.push({
        problem: `'${key}' is not a valid matrix axis name`,
        path: [key],
        hint: 'axis names start with a letter or _, then letters, digits, _ or -',
        atKey: true,
      });
      continue;
    }
    const list = values as MatrixValue[];
    const seen = new Set<string>();
    list.forEach((value, index) => {
      if (seen.has(String(value))) {
        problems.push({
          problem: `duplicate value '${String(value)}' in axis '${key}'`,
          path: [key, index],
          hint: 'remove the duplicate',
        });
      }
      seen.add(String(value));
    });
    axes.push([key, list]);
  }
  const axisNames = axes.map(([name]) => name);
  checkEntries(matrix.exclude ?? [], 'exclude', axisNames, problems, true);
  checkEntries(matrix.include ?? [], 'include', axisNames, problems, false);

  const size = axes.reduce((product, [, values]) => product * values.length, axes.length === 0 ? 0 : 1);
  const total = size + (matrix.include?.length ?? 0);
  if (total > limits.matrixCombinations) {
    problems.push({
      problem: `the matrix has ${total} combinations, more than the ${limits.matrixCombinations} allowed`,
      path: [],
      hint: 'use fewer values, or exclude combinations you do not need',
    });
  }
  if (problems.length > 0) return { combinations: [], problems };

  let combinations: MatrixCombination[] = axes.length === 0 ? [] : [{}];
  for (const [name, values] of axes) {
    combinations = combinations.flatMap((combination) => values.map((value) => ({ ...combination, [name]: value })));
  }
  for (const exclusion of matrix.exclude ?? []) {
    combinations = combinations.filter((combination) => !matches(combination, exclusion));
  }
  // Include entries merge only into combinations of the product, never into ones another include added.
  const originals = combinations.map((combination) => ({ ...combination }));
  for (const inclusion of matrix.include ?? []) {
    let merged = false;
    originals.forEach((original, index) => {
      const combination = combinations[index] ?? {};
      const contradicts = Object.entries(inclusion).some(
        ([key, value]) => key in original && String(original[key]) !== String(value),
      );
      if (!contradicts) {
        combinations[index] = { ...combination, ...inclusion };
        merged = true;
      }
    });
    if (!merged) combinations.push({ ...inclusion });
  }
  const unique = new Map<string, MatrixCombination>();
  for (const combination of combinations) unique.set(combinationLabel(combination), combination);
  if (unique.size === 0) {
    problems.push({
      problem: 'the matrix expands to no combinations at all',
      path: [],
      hint: 'check the exclude entries: they remove every combination',
    });
  }
  return { combinations: [...unique.values()], problems };
}

/**
 * Keys of a matrix as written that look like a misspelt `include`, `exclude`, `max_parallel` or `fail_fast`
 * (they would otherwise be read as axes), with the key meant.
 */
export function misspeltMatrixKeys(matrix: unknown): MatrixProblem[] {
  if (typeof matrix !== 'object' || matrix === null || Array.isArray(matrix)) return [];
  return Object.keys(matrix).flatMap((key) => {
    if (reservedKeys.includes(key)) return [];
    const reserved = closestMatch(key, reservedKeys);
    if (!reserved) return [];
    return [
      {
        problem: `matrix key '${key}' looks like a misspelt '${reserved}'`,
        path: [key],
        hint: `rename it to '${reserved}' (axis names must not be this close to it)`,
        atKey: true,
      },
    ];
  });
}

/** `node=18, os=linux`: the part of an expanded job's name in parentheses. */
export function combinationLabel(combination: MatrixCombination): string {
  return Object.entries(combination)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(', ');
}

/** The name of a matrix expansion: `test (node=18, os=linux)`. */
export function expandedJobName(baseName: string, combination: MatrixCombination): string {
  return `${baseName} (${combinationLabel(combination)})`;
}

function matches(combination: MatrixCombination, entry: Record<string, MatrixValue>): boolean {
  return Object.entries(entry).every(([key, value]) => String(combination[key]) === String(value));
}

function checkEntries(
  entries: ReadonlyArray<Record<string, MatrixValue>>,
  list: 'include' | 'exclude',
  axisNames: string[],
  problems: MatrixProblem[],
  keysMustBeAxes: boolean,
): void {
  entries.forEach((entry, index) => {
    if (Object.keys(entry).length === 0) {
      problems.push({
        problem: `${list} entry ${index} is empty`,
        path: [list, index],
        hint: 'give at least one key: value',
      });
    }
    if (!keysMustBeAxes) return;
    for (const key of Object.keys(entry)) {
      if (axisNames.includes(key)) continue;
      const match = closestMatch(key, axisNames);
      problems.push({
        problem: `exclude entry ${index} names '${key}', which is not a matrix axis${match ? ` (did you mean '${match}'?)` : ''}`,
        path: [list, index, key],
        hint: `matrix axes: ${listNames(axisNames)}`,
        atKey: true,
      });
    }
  });
}
