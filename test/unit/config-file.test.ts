/** `conveyor.config.yml`: found in the usual places, validated with located errors, absent means defaults. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigFileError, findConfigFile, parseConfigFile, readConfigFile } from '../../config/config-file';

const dir = mkdtempSync(path.join(tmpdir(), 'conveyor-config-'));

describe('conveyor.config.yml', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is optional: no file gives the defaults', () => {
    assert.equal(findConfigFile({}, path.join(dir, 'data'), path.join(dir, 'root')), undefined);
    assert.deepEqual(readConfigFile(undefined), {});
  });

  it('is found in the data dir before the project root, and CONVEYOR_CONFIG wins over both', () => {
    const data = path.join(dir, 'data-1');
    const root = path.join(dir, 'root-1');
    for (const folder of [data, root]) {
      rmSync(folder, { recursive: true, force: true });
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, 'conveyor.config.yml'), 'version: 1\n');
    }
    assert.equal(findConfigFile({}, data, root), path.join(data, 'conveyor.config.yml'));
    rmSync(path.join(data, 'conveyor.config.yml'));
    assert.equal(findConfigFile({}, data, root), path.join(root, 'conveyor.config.yml'));
    assert.equal(findConfigFile({ CONVEYOR_CONFIG: 'elsewhere.yml' }, data, root), path.resolve('elsewhere.yml'));
  });

  it('reports an unknown key with its line, column and a did-you-mean', () => {
    assert.throws(
      () => parseConfigFile('version: 1\nversoin: 2\n', 'conveyor.config.yml'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigFileError);
        assert.match(error.message, /^conveyor\.config\.yml:2:1 {2}\w+ {2}.*versoin/);
        return true;
      },
    );
  });

  it('reports YAML syntax errors located, and a missing CONVEYOR_CONFIG file as unreadable', () => {
    assert.throws(() => parseConfigFile('version: [1\n', 'c.yml'), /c\.yml:\d+:\d+ {2}yaml_syntax/);
    assert.throws(
      () => readConfigFile(path.join(dir, 'missing.yml')),
      /missing\.yml:1:1 {2}unreadable {2}no such file/,
    );
  });
});
