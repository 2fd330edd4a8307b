import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parsePipeline, type ParseOptions, type PipelineModel } from '../../../pipeline';

/** Directory of the YAML fixtures. */
export const fixtureDirectory = join(__dirname, '..', '..', 'fixtures', 'pipelines');

/** Reads a fixture file by its name under test/fixtures/pipelines. */
export function readFixture(name: string): string {
  return readFileSync(join(fixtureDirectory, name), 'utf8');
}

/** The error fixtures: one file per code, with `# expect: CODE LINE:COL [warning]` on its first line. */
export function errorFixtures(): Array<{
  file: string;
  source: string;
  code: string;
  line: number;
  column: number;
  warning: boolean;
}> {
  const directory = join(fixtureDirectory, 'errors');
  return readdirSync(directory)
    .filter((file) => file.endsWith('.yml'))
    .sort()
    .map((file) => {
      const source = readFileSync(join(directory, file), 'utf8');
      const match = /^# expect: (\S+) (\d+):(\d+)( warning)?/.exec(source);
      if (!match) throw new Error(`${file} has no '# expect:' line`);
      return {
        file,
        source,
        code: match[1] ?? '',
        line: Number(match[2]),
        column: Number(match[3]),
        warning: Boolean(match[4]),
      };
    });
}

/** Parses and asserts validity, returning the model (the errors are shown when it is invalid). */
export function parseValid(source: string, options?: ParseOptions): PipelineModel {
  const result = parsePipeline(source, options);
  if (!result.valid)
    throw new Error(
      `expected a valid pipeline, got:\n${result.errors.map((error) => `${error.line}:${error.column} ${error.code} ${error.message}`).join('\n')}`,
    );
  return result.pipeline;
}

/** Parses and returns the errors (asserting that there are some). */
export function parseErrors(
  source: string,
  options?: ParseOptions,
): Array<{ code: string; message: string; line: number; column: number; path: string; hint?: string }> {
  const result = parsePipeline(source, options);
  if (result.valid) throw new Error('expected the pipeline to be invalid, but it parsed');
  return result.errors;
}

/** A one-job pipeline around the given step fields (YAML flow mapping body) — for short tests. */
export function oneStep(stepFields: string, extra = ''): string {
  return `name: p\n${extra}jobs:\n  build:\n    steps:\n      - {name: s, ${stepFields}}\n`;
}
