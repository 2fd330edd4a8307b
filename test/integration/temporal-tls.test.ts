/**
 * Conveyor against a Temporal server that requires mTLS (docs/operations.md): the embedded stack's dev server
 * behind nginx terminating TLS with a locally made CA and requiring a client certificate. A worker and the CLI
 * given the CA, a client certificate and its key (Temporal's own environment variables) run a pipeline through the
 * proxy; a wrong CA, a missing client certificate or an unreadable file each get one clear line, not a stack trace.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { loadConfig } from '../../workers/config';
import { conveyor, lastJsonLine, runCommand } from '../helpers/cli';
import { freePort } from '../helpers/deployments';
import { closeTestEnvironment, testEnvironment, uniqueTaskQueue } from '../helpers/temporal';
import { startWorkerProcess } from '../helpers/worker-process';

const run = promisify(execFile);
const docker = new Docker();
const upstream = loadConfig().temporal.address;
let dir = '';
let port = 0;
let proxy: Docker.Container | undefined;

/** A CA, and a certificate it signs for `name` (server: localhost and 127.0.0.1; client: a user). */
async function makeCa(name: string): Promise<void> {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.pem`)]); // prettier-ignore
}

async function makeCertificate(name: string, ca: string, extensions: string): Promise<void> {
  const file = (suffix: string) => path.join(dir, `${name}.${suffix}`);
  await writeFile(file('ext'), `${extensions}\n`);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', file('key'),
    '-out', file('csr')]); // prettier-ignore
  await run('openssl', ['x509', '-req', '-in', file('csr'), '-CA', path.join(dir, `${ca}.pem`), '-CAkey',
    path.join(dir, `${ca}.key`), '-CAcreateserial', '-days', '2', '-extfile', file('ext'), '-out', file('pem')]); // prettier-ignore
}

/** nginx: TLS on 127.0.0.1:`port`, client certificates signed by `ca` required, gRPC passed to the dev server. */
function nginxConfig(): string {
  return `
worker_processes 1;
error_log /dev/stderr info;
events {}
http {
  access_log /dev/stdout;
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate /certs/server.pem;
    ssl_certificate_key /certs/server.key;
    ssl_client_certificate /certs/ca.pem;
    ssl_verify_client on;
    location / {
      grpc_pass grpc://${upstream};
      grpc_read_timeout 600s;
      grpc_send_timeout 600s;
      client_max_body_size 0;
    }
  }
}
`;
}

async function waitForPort(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end(() => resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The environment of a Conveyor process that reaches Temporal through the proxy. */
function tlsEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
    TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key'),
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    ...overrides,
  };
}

after(closeTestEnvironment);

describe('Temporal over mTLS (nginx terminating TLS in front of the dev server)', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-tls-'));
    await makeCa('ca');
    await makeCa('other-ca');
    await makeCertificate('server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
    await makeCertificate('client', 'ca', 'extendedKeyUsage=clientAuth');
    port = await freePort();
    await writeFile(path.join(dir, 'nginx.conf'), nginxConfig());
    proxy = await docker.createContainer({
      name: `conveyor-test-tls-proxy-${randomUUID().slice(0, 8)}`,
      Image: 'conveyor/nginx:latest',
      Cmd: ['nginx', '-c', '/certs/nginx.conf', '-g', 'daemon off;'],
      Labels: { 'conveyor.test': 'temporal-tls' },
      HostConfig: { NetworkMode: 'host', Binds: [`${dir}:/certs:ro`], AutoRemove: false },
    });
    await proxy.start();
    await waitForPort();
  });
  after(async () => {
    await proxy?.remove({ force: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a pipeline with the worker and the CLI both connected through mTLS', async () => {
    const taskQueue = uniqueTaskQueue('tls');
    const env = { ...tlsEnv(), CONVEYOR_TASK_QUEUE: taskQueue };
    const worker = await startWorkerProcess(taskQueue, env);
    try {
      const result = await conveyor(['run', 'examples/hello.yml', '--json'], { env });
      assert.equal(result.code, 0, result.stderr);
      const summary = lastJsonLine<{ runId: string; status: string }>(result.stdout);
      assert.equal(summary.status, 'success');
      const status = await conveyor(['status', summary.runId, '--json'], { env });
      assert.equal(status.code, 0, status.stderr);
    } finally {
      await worker.stop();
    }
    // The traffic went through the proxy: it logged the worker's polls and the CLI's start, both over TLS.
    const logs = (await proxy!.logs({ stdout: true, stderr: false })).toString('utf8');
    assert.match(logs, /POST \/temporal\.api\.workflowservice\.v1\.WorkflowService\/StartWorkflowExecution /);
    assert.match(logs, /POST \/temporal\.api\.workflowservice\.v1\.WorkflowService\/PollActivityTaskQueue /);
  });

  it("investigates a failed run through mTLS: the worker's own client for investigations uses the TLS settings", async () => {
    const taskQueue = uniqueTaskQueue('tls-inv');
    const env = { ...tlsEnv(), CONVEYOR_TASK_QUEUE: taskQueue };
    const file = path.join(dir, `fails-${randomUUID().slice(0, 8)}.yml`);
    await writeFile(
      file,
      [
        'name: tls-fails',
        'jobs:',
        '  only:',
        '    steps:',
        '      - name: run',
        '        image: conveyor/busybox:latest',
        '        script: "exit 3"',
        '',
      ].join('\n'),
    );
    const worker = await startWorkerProcess(taskQueue, env);
    let incident: string | undefined;
    try {
      const result = await conveyor(['run', file], { env });
      assert.equal(result.code, 1, result.stderr);
      // The run opened its incident through the worker's client (a plain connection to the TLS proxy could not).
      incident = /conveyor incidents show (incident-[0-9a-f]+-\d+) -f/.exec(result.stderr)?.[1];
      assert.ok(incident, `no incident in:\n${result.stderr}`);
      const shown = await conveyor(['incidents', 'show', incident, '-f', '--json'], { env });
      assert.equal(shown.code, 0, shown.stderr);
      const report = lastJsonLine<{ rootCause?: { cause: string }; reports: { rca?: string } }>(shown.stdout);
      assert.equal(report.rootCause?.cause, 'script_error');
      assert.ok(report.reports.rca);
    } finally {
      await worker.stop();
      if (incident) {
        const { client } = await testEnvironment();
        await client.workflow
          .getHandle(incident)
          .terminate('test over')
          .catch(() => undefined);
      }
    }
  });

  it('refuses a server whose certificate the configured CA did not sign, in one line', async () => {
    const result = await conveyor(['status', 'run-anything'], {
      env: tlsEnv({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'other-ca.pem') }),
    });
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /cannot connect to the Temporal server at 127\.0\.0\.1:\d+ over TLS: its certificate is not signed by the CA Conveyor trusts; check TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('says when the server wants a client certificate that was not given', async () => {
    const result = await conveyor(['status', 'run-anything'], {
      env: tlsEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' }),
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /refused Conveyor's client certificate; check TEMPORAL_TLS_CLIENT_CERT_PATH/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('names the setting of a certificate file that does not exist', async () => {
    const missing = path.join(dir, 'no-such-cert.pem');
    const result = await conveyor(['status', 'run-anything'], {
      env: tlsEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: missing }),
    });
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      new RegExp(
        `cannot read the client certificate for Temporal at ${missing} \\(no such file\\); fix TEMPORAL_TLS_CLIENT_CERT_PATH`,
      ),
    );
  });

  it('a worker with the wrong CA exits with one line', async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'conveyor-tls-worker-'));
    try {
      const result = await runCommand(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
        env: {
          ...tlsEnv({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'other-ca.pem') }),
          CONVEYOR_DATA_DIR: data,
          CONVEYOR_TASK_QUEUE: uniqueTaskQueue('tls-refused'),
        },
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stderr, /^worker: cannot connect to the Temporal server at 127\.0\.0\.1:\d+ over TLS: /m);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});
