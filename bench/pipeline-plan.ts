/**
 * Parse + validate + plan of generated pipelines with 100, 1,000 and 5,000 jobs: a random DAG (each job depends
 * on about 3 earlier jobs, so many dependencies are redundant and reported as warnings) with 3 steps per job.
 * Prints, per size, the median of several runs with the default (fast) YAML reader and with the exact one
 * (`yamlEngine: 'exact'`, the `yaml` library) measured in the same run, their ratio, and the time per job
 * relative to the 100-job case (≈1.0 means linear growth). Run: `npx tsx bench/pipeline-plan.ts`.
 */
import { isDeepStrictEqual } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createPlan, parsePipeline, type ParseOptions } from '../pipeline';
import { seededRandom } from '../test/helpers/seeded-random';

/** A pipeline of `jobs` jobs as YAML text. */
function generatePipeline(jobs: number, seed = 42): string {
  const next = seededRandom(seed);
  const lines = ['name: bench', 'global_env:', '  REGISTRY: registry.local:5000', '  VERSION: "1.0"', 'jobs:'];
  for (let index = 0; index < jobs; index++) {
    lines.push(`  job-${index}:`);
    const dependencies = new Set<number>();
    for (let attempt = 0; attempt < 3 && index > 0; attempt++) dependencies.add(Math.floor(next() * index));
    if (dependencies.size > 0)
      lines.push(`    depends_on: [${[...dependencies].map((dependency) => `job-${dependency}`).join(', ')}]`);
    lines.push('    environment:', `      OUT: "build/${index}"`, '    steps:');
    for (let step = 0; step < 3; step++) {
      lines.push(
        `      - name: step-${step}`,
        '        image: ${REGISTRY}/builder:${VERSION}',
        `        script: ["echo ${'$'}{OUT}/${step}", "make -j4 target-${step}"]`,
        '        timeout: 10m',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function measure(source: string, options: ParseOptions): number {
  const start = performance.now();
  const result = parsePipeline(source, options);
  if (!result.valid) throw new Error(`generated pipeline is invalid: ${result.errors[0]?.message}`);
  createPlan(result.pipeline);
  return performance.now() - start;
}

const sizes = [100, 1000, 5000];
const runs = 11;
const rows: Array<{ jobs: number; bytes: number; fastMs: number; exactMs: number; perJobUs: number }> = [];
for (const jobs of sizes) {
  const source = generatePipeline(jobs);
  if (!isDeepStrictEqual(parsePipeline(source), parsePipeline(source, { yamlEngine: 'exact' })))
    throw new Error(`the two YAML readers disagree on the ${jobs}-job pipeline`);
  for (let warmUp = 0; warmUp < 2; warmUp++) measure(source, {});
  const fast = Array.from({ length: runs }, () => measure(source, {}));
  measure(source, { yamlEngine: 'exact' });
  const exact = Array.from({ length: runs }, () => measure(source, { yamlEngine: 'exact' }));
  const fastMs = median(fast);
  rows.push({ jobs, bytes: source.length, fastMs, exactMs: median(exact), perJobUs: (fastMs * 1000) / jobs });
}
const base = rows[0]?.perJobUs ?? 1;
process.stdout.write(`parse + validate + plan, median of ${runs} runs (after warm-up runs), node ${process.version}\n`);
process.stdout.write('jobs    file size   median ms   exact-YAML ms   exact/fast   µs/job   per-job vs 100\n');
for (const row of rows) {
  process.stdout.write(
    [
      String(row.jobs).padStart(5),
      `${(row.bytes / 1024).toFixed(0)} KiB`.padStart(10),
      row.fastMs.toFixed(1).padStart(10),
      row.exactMs.toFixed(1).padStart(14),
      `${(row.exactMs / row.fastMs).toFixed(1)}×`.padStart(11),
      row.perJobUs.toFixed(1).padStart(7),
      (row.perJobUs / base).toFixed(2).padStart(15),
    ].join('  ') + '\n',
  );
}
