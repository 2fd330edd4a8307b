/** Where Conveyor's processes find Temporal: the environment over conveyor.config.yml over the embedded defaults. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigFile } from '../../../config/config-file';
import {
  resolveTemporalSettings,
  temporalConnectionOptions,
  TemporalSettingsError,
} from '../../../config/temporal-connection';

describe('Temporal connection settings', () => {
  it('defaults to the embedded dev server without TLS', () => {
    assert.deepEqual(resolveTemporalSettings({}, undefined, undefined), {
      address: '127.0.0.1:7233',
      namespace: 'default',
      tls: undefined,
      apiKey: undefined,
    });
  });

  it('reads the file section, resolving its paths against the file, and lets the environment override it', () => {
    const file = parseConfigFile(
      [
        'temporal:',
        '  address: temporal.internal:7233',
        '  namespace: ci',
        '  tls: {ca_file: certs/ca.pem, cert_file: /etc/conveyor/client.pem, key_file: certs/client.key}',
        '  api_key_file: key.txt',
      ].join('\n'),
      '/etc/conveyor/conveyor.config.yml',
    );
    const fromFile = resolveTemporalSettings({}, file.temporal, '/etc/conveyor/conveyor.config.yml');
    assert.deepEqual(fromFile, {
      address: 'temporal.internal:7233',
      namespace: 'ci',
      tls: {
        caFile: '/etc/conveyor/certs/ca.pem',
        certFile: '/etc/conveyor/client.pem',
        keyFile: '/etc/conveyor/certs/client.key',
      },
      apiKey: { file: '/etc/conveyor/key.txt' },
    });
    const overridden = resolveTemporalSettings(
      { TEMPORAL_ADDRESS: 'other:7233', TEMPORAL_TLS_SERVER_NAME: 'temporal', TEMPORAL_API_KEY: 'k' },
      file.temporal,
      '/etc/conveyor/conveyor.config.yml',
    );
    assert.equal(overridden.address, 'other:7233');
    assert.equal(overridden.namespace, 'ci');
    assert.equal(overridden.tls?.serverName, 'temporal');
    assert.deepEqual(overridden.apiKey, { value: 'k', from: 'TEMPORAL_API_KEY' });
  });

  it('turns TLS on with any TLS setting or TEMPORAL_TLS=true, and off with TEMPORAL_TLS=false', () => {
    assert.deepEqual(resolveTemporalSettings({ TEMPORAL_TLS: 'true' }, undefined, undefined).tls, {});
    assert.ok(resolveTemporalSettings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/ca.pem' }, undefined, undefined).tls);
    assert.equal(resolveTemporalSettings({ TEMPORAL_TLS: 'false' }, { tls: true }, undefined).tls, undefined);
  });

  it('rejects an unknown key in the section with its line and column', () => {
    assert.throws(
      () => parseConfigFile('temporal:\n  adress: x:1\n', 'conveyor.config.yml'),
      /conveyor\.config\.yml:2:3 /,
    );
  });

  it('reads the files when connecting, naming the setting of one that is missing or half of a pair', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-temporal-settings-'));
    try {
      await writeFile(path.join(dir, 'ca.pem'), 'CA');
      await writeFile(path.join(dir, 'key.txt'), 'secret-key\n');
      const options = temporalConnectionOptions({
        address: 'a:1',
        namespace: 'n',
        tls: { caFile: path.join(dir, 'ca.pem'), serverName: 'temporal' },
        apiKey: { file: path.join(dir, 'key.txt') },
      });
      assert.equal(options.tls?.serverRootCACertificate?.toString(), 'CA');
      assert.equal(options.tls?.serverNameOverride, 'temporal');
      assert.equal(options.apiKey, 'secret-key');
      assert.throws(
        () => temporalConnectionOptions({ address: 'a:1', namespace: 'n', tls: { caFile: path.join(dir, 'no.pem') } }),
        (error: Error) =>
          error instanceof TemporalSettingsError &&
          /no such file\); fix TEMPORAL_TLS_SERVER_CA_CERT_PATH/.test(error.message),
      );
      assert.throws(
        () =>
          temporalConnectionOptions({ address: 'a:1', namespace: 'n', tls: { certFile: path.join(dir, 'ca.pem') } }),
        /mTLS needs both a client certificate and its key/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
