import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCauses, runLogPatterns } from '../../../investigate/catalogue';
import type { QuotedLine } from '../../../investigate/incident';
import { LogScanner, matchesFor } from '../../../investigate/log-scan';

function record(text: string, overrides: Partial<QuotedLine> = {}): QuotedLine {
  return {
    ts: '2026-01-01T00:00:00.000Z',
    stream: 'stderr',
    job: 'build',
    step: 'compile',
    attempt: 1,
    line: text,
    ...overrides,
  };
}

/** A deterministic pseudo-random sequence (a linear congruential generator), so the test is repeatable. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('the shared log scan', () => {
  it('counts every pattern in one pass and keeps its latest lines with their line numbers', () => {
    const scanner = new LogScanner({ job: 'build', step: 'compile' }, ['no space left', 'enospc', 'permission denied']);
    const lines = ['starting', 'write: no space left on device', 'ENOSPC: fs.write', 'ok', 'error: ENOSPC again'];
    for (const line of lines) scanner.add(record(line));
    const scan = scanner.finish();
    assert.equal(scan.linesSearched, 5);
    assert.equal(scan.charsSearched, lines.join('').length);
    assert.deepEqual(
      scan.patterns.map((entry) => [entry.pattern, entry.count, entry.lines.map((line) => line.lineNumber)]),
      [
        ['no space left', 1, [2]],
        ['enospc', 2, [3, 5]],
      ],
      'a pattern that matched nothing is left out',
    );
    assert.deepEqual(
      matchesFor(scan, ['no space left', 'enospc']).map((line) => `${line.lineNumber} ${line.line}`),
      ['2 write: no space left on device', '3 ENOSPC: fs.write', '5 error: ENOSPC again'],
    );
    assert.deepEqual(matchesFor(scan, ['permission denied']), []);
  });

  it("reads only the selected step's lines and keeps the tail of its last attempt", () => {
    const scanner = new LogScanner({ job: 'build', step: 'compile' }, [], { tailLines: 2 });
    scanner.add(record('other job', { job: 'test' }));
    scanner.add(record('other step', { step: 'lint' }));
    for (const line of ['a1', 'a2', 'a3']) scanner.add(record(line));
    for (const line of ['b1', 'b2', 'b3']) scanner.add(record(line, { attempt: 2 }));
    scanner.add(record('late line of attempt 1'));
    const scan = scanner.finish();
    assert.equal(scan.linesSearched, 7);
    assert.equal(scan.lastAttempt, 2);
    assert.deepEqual(
      scan.tail.map((line) => `${line.attempt}:${line.lineNumber} ${line.line}`),
      ['2:2 b2', '2:3 b3'],
    );
  });

  it("numbers each step's lines apart when it scans a whole job", () => {
    const scanner = new LogScanner({ job: 'build' }, ['boom']);
    scanner.add(record('fetch', { step: 'fetch' }));
    scanner.add(record('boom in fetch', { step: 'fetch' }));
    scanner.add(record('boom in compile'));
    assert.deepEqual(
      matchesFor(scanner.finish(), ['boom'])
        .map((line) => `${line.step}:${line.lineNumber}`)
        .sort(),
      ['compile:1', 'fetch:2'],
    );
  });

  it('matches a long line whole but quotes it cut', () => {
    const scanner = new LogScanner({ job: 'build' }, ['out of memory'], { maxLineChars: 20 });
    scanner.add(record(`${'x'.repeat(100)} fatal: out of memory`));
    const [match] = matchesFor(scanner.finish(), ['out of memory']);
    assert.equal(match?.line, `${'x'.repeat(20)}… (${101 + 'fatal: out of memory'.length - 20} more characters)`);
  });

  it('gives every cause exactly the latest lines matching its patterns, as searching the log for it alone would', () => {
    const random = seeded(12);
    const vocabulary = [
      'compiling module',
      'Error: ENOSPC: no space left on device',
      'bash: make: command not found',
      'FATAL ERROR: JavaScript heap out of memory',
      'not ok 3 - adds numbers',
      'Tests: 2 failed, 10 passed',
      'getaddrinfo ENOTFOUND registry.local',
      'open /etc/shadow: permission denied',
      'warning: deprecated',
    ];
    const output: QuotedLine[] = [];
    for (let index = 0; index < 3000; index += 1) {
      const attempt = index < 1000 ? 1 : index < 2200 ? 2 : 3;
      output.push(record(vocabulary[Math.floor(random() * vocabulary.length)]!, { attempt }));
    }
    const scanner = new LogScanner({ job: 'build', step: 'compile' }, runLogPatterns);
    for (const line of output) scanner.add(line);
    const scan = scanner.finish();
    const numbered = output.map((line, index) => ({
      line,
      lineNumber: index < 1000 ? index + 1 : index < 2200 ? index - 999 : index - 2199,
    }));
    for (const module of runCauses) {
      if (!module.logPatterns) continue;
      const regexes = module.logPatterns.map((source) => new RegExp(source, 'i'));
      const expected = numbered
        .filter(({ line }) => regexes.some((regex) => regex.test(line.line)))
        .slice(-5)
        .map(({ line, lineNumber }) => `${line.attempt}:${lineNumber} ${line.line}`);
      const actual = matchesFor(scan, module.logPatterns).map(
        (line) => `${line.attempt}:${line.lineNumber} ${line.line}`,
      );
      assert.deepEqual(actual, expected, module.cause);
    }
    for (const entry of scan.patterns) {
      const regex = new RegExp(entry.pattern, 'i');
      assert.equal(entry.count, output.filter((line) => regex.test(line.line)).length, entry.pattern);
    }
  });

  it('keeps a bounded result however long the log is', () => {
    const scanner = new LogScanner({ job: 'build', step: 'compile' }, runLogPatterns);
    for (let index = 0; index < 200_000; index += 1) {
      scanner.add(record(index % 3 === 0 ? `Error: ENOSPC at write ${index}` : `line ${index}`));
    }
    const scan = scanner.finish();
    assert.equal(scan.linesSearched, 200_000);
    assert.equal(scan.tail.length, 30);
    assert.equal(scan.tail.at(-1)?.lineNumber, 200_000);
    for (const entry of scan.patterns) assert.ok(entry.lines.length <= 5, entry.pattern);
    assert.equal(scan.patterns.find((entry) => entry.pattern === 'enospc')?.count, 66_667);
    assert.ok(JSON.stringify(scan).length < 20_000, 'the result is small enough for a workflow payload');
  });
});
