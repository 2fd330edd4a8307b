/**
 * The pipeline-syntax example runs as written (docs/pipeline-syntax.md, first example): `npm ci` on the job's egress
 * network installs exactly what the lockfile says from a registry, here a local one speaking npm's protocol (the
 * project's `.npmrc` points npm at it), so no internet is needed. The test takes the YAML block from the doc itself,
 * commits it with a small Node.js project and runs it with `conveyor run` on the embedded stack's worker.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conveyor, lastJsonLine } from '../helpers/cli';
import { createWorkTree, scratchDir } from '../helpers/git';
import { startNpmRegistry, type NpmRegistry } from '../helpers/npm-registry';
import { leftoversOf, logs } from '../helpers/temporal';

const dependency = 'conveyor-fixture-greet';

/** The first YAML block of docs/pipeline-syntax.md, exactly as the reader sees it. */
async function documentedExample(): Promise<string> {
  const doc = await readFile(path.resolve(__dirname, '../../docs/pipeline-syntax.md'), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/pipeline-syntax.md has a yaml block');
  return block;
}

/** A Node.js project of the shape the example describes, depending on `dependency` ^1.0.0, locked at 1.0.0. */
function project(registry: NpmRegistry): Record<string, string> {
  const locked = registry.versions[dependency]!['1.0.0']!;
  const manifest = {
    name: 'web-app',
    version: '1.0.0',
    private: true,
    scripts: {
      build: 'node build.js',
      'test:unit': 'node test/unit.js',
      'test:integration': 'node test/integration.js',
    },
    dependencies: { [dependency]: '^1.0.0' },
  };
  const lockfile = {
    name: 'web-app',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'web-app', version: '1.0.0', dependencies: manifest.dependencies },
      [`node_modules/${dependency}`]: { version: '1.0.0', resolved: locked.tarball, integrity: locked.integrity },
    },
  };
  const check = (suite: string) =>
    [
      "const assert = require('node:assert/strict');",
      "const text = require('node:fs').readFileSync('dist/greeting.txt', 'utf8');",
      'assert.match(text, /^hello, web-app/);',
      `console.log('${suite}: greeting checked');`,
    ].join('\n');
  return {
    'pipeline.yml': '', // replaced by the documented example
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'package-lock.json': `${JSON.stringify(lockfile, null, 2)}\n`,
    '.npmrc': [`registry=${registry.url}`, 'audit=false', 'fund=false', 'update-notifier=false', ''].join('\n'),
    'build.js': [
      "const fs = require('node:fs');",
      `const greet = require('${dependency}');`,
      `const { version } = require('${dependency}/package.json');`,
      "fs.mkdirSync('dist', { recursive: true });",
      "fs.writeFileSync('dist/greeting.txt', greet('web-app') + '\\n');",
      `console.log('built with ${dependency} ' + version);`,
    ].join('\n'),
    'test/unit.js': check('unit'),
    'test/integration.js': check('integration'),
  };
}

describe('the pipeline-syntax example', () => {
  let registry: NpmRegistry | undefined;
  let scratch: Awaited<ReturnType<typeof scratchDir>> | undefined;
  before(async () => {
    const greeter = (version: string) => ({
      version,
      files: { 'index.js': `module.exports = (name) => 'hello, ' + name + ' from greet ${version}';\n` },
    });
    // 1.1.0 is the latest that ^1.0.0 allows: only the lockfile keeps npm at 1.0.0.
    registry = await startNpmRegistry({ [dependency]: [greeter('1.0.0'), greeter('1.1.0')] });
    scratch = await scratchDir('npm-ci');
  });
  after(async () => {
    await registry?.close();
    await scratch?.cleanup();
  });

  it('runs as written: npm ci on the egress network installs the locked version from the registry', async () => {
    const repo = path.join(scratch!.dir, 'web-app');
    await createWorkTree(repo, { ...project(registry!), 'pipeline.yml': await documentedExample() });
    const run = await conveyor(['run', 'pipeline.yml', '--json'], { cwd: repo, timeoutMs: 600_000 });
    const summary = lastJsonLine<{ runId: string; status: string; jobs: Record<string, { status: string }> }>(
      run.stdout,
    );
    assert.equal(summary.status, 'success', `${run.stdout}\n${run.stderr}`);
    assert.equal(run.code, 0);
    assert.equal(summary.jobs.deploy?.status, 'skipped', 'deploy runs only with --var TARGET=prod');

    const { records } = await logs.read(summary.runId);
    const lines = (job: string, step: string) =>
      records.filter((record) => record.job === job && record.step === step).map((record) => record.line);
    assert.ok(
      lines('build', 'install').some((line) => /added 1 package/.test(line)),
      lines('build', 'install').join('\n'),
    );
    assert.ok(
      lines('build', 'compile').includes(`built with ${dependency} 1.0.0`),
      lines('build', 'compile').join('\n'),
    );
    assert.ok(lines('build', 'compile').includes('greeting.txt'));
    const suites = records.filter((record) => record.step === 'run-suite').map((record) => record.line);
    assert.ok(suites.includes('unit: greeting checked'), suites.join('\n'));
    assert.ok(suites.includes('integration: greeting checked'), suites.join('\n'));
    // The lockfile was honoured: the locked tarball was fetched, the newer version never.
    const tarballs = registry!.requests.filter((request) => request.endsWith('.tgz'));
    assert.deepEqual(tarballs, [`/${dependency}/-/${dependency}-1.0.0.tgz`]);
    assert.deepEqual(await leftoversOf(summary.runId), []);
  });
});
