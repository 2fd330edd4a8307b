/**
 * How every Conveyor process (worker, CLI, API server) reaches Temporal (docs/operations.md): the address and
 * namespace, and for a production cluster or Temporal Cloud, TLS (the server's CA, a client certificate and key for
 * mTLS, the server name) and an API key. Read from the `temporal:` section of conveyor.config.yml; Temporal's own
 * environment variables (the names its CLI uses) override it, so one set of settings serves Conveyor and
 * `temporal` alike.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import path from 'node:path';
import { z } from 'zod';

const filePath = z.string().min(1);

export const temporalSectionSchema = z
  .strictObject({
    address: z.string().min(1).optional().meta({ description: 'host:port of the frontend (default 127.0.0.1:7233).' }),
    namespace: z.string().min(1).optional().meta({ description: 'Temporal namespace (default "default").' }),
    tls: z
      .union([
        z.boolean(),
        z.strictObject({
          ca_file: filePath.optional().meta({ description: "PEM of the CA that signed the server's certificate." }),
          cert_file: filePath.optional().meta({ description: 'PEM client certificate (mTLS).' }),
          key_file: filePath.optional().meta({ description: 'PEM private key of the client certificate.' }),
          server_name: z
            .string()
            .min(1)
            .optional()
            .meta({ description: "Name to check the server's certificate for." }),
        }),
      ])
      .optional()
      .meta({ description: 'true for TLS with the system CAs, or the files of a private CA and mTLS.' }),
    api_key_file: filePath.optional().meta({ description: 'A file holding an API key (Temporal Cloud).' }),
  })
  .meta({ description: 'The Temporal cluster (docs/operations.md).' });

export type TemporalSection = z.output<typeof temporalSectionSchema>;

/** Resolved settings: where the files are, not their contents (they are read when connecting). */
export interface TemporalSettings {
  address: string;
  namespace: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; serverName?: string };
  apiKey?: { value: string; from: string } | { file: string };
}

/** Temporal's environment variables, as its CLI names them. */
export const temporalEnvironment = {
  address: 'TEMPORAL_ADDRESS',
  namespace: 'TEMPORAL_NAMESPACE',
  tls: 'TEMPORAL_TLS',
  caFile: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  certFile: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  keyFile: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
  apiKey: 'TEMPORAL_API_KEY',
} as const;

/**
 * The settings from the environment over the file's section over the embedded stack's defaults. Relative file
 * paths in the file are relative to the file. TLS is on when anything TLS-related is set (or `tls: true`).
 */
export function resolveTemporalSettings(
  env: NodeJS.ProcessEnv,
  section: TemporalSection | undefined,
  configFile: string | undefined,
): TemporalSettings {
  const fromFile = (file: string | undefined) =>
    file && configFile ? path.resolve(path.dirname(configFile), file) : file;
  const sectionTls = typeof section?.tls === 'object' ? section.tls : {};
  const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const tls = {
    caFile: nonEmpty(env[temporalEnvironment.caFile]) ?? fromFile(sectionTls.ca_file),
    certFile: nonEmpty(env[temporalEnvironment.certFile]) ?? fromFile(sectionTls.cert_file),
    keyFile: nonEmpty(env[temporalEnvironment.keyFile]) ?? fromFile(sectionTls.key_file),
    serverName: nonEmpty(env[temporalEnvironment.serverName]) ?? sectionTls.server_name,
  };
  const envTls = nonEmpty(env[temporalEnvironment.tls]);
  const tlsWanted =
    envTls !== undefined
      ? envTls === 'true' || envTls === '1'
      : section?.tls === true || typeof section?.tls === 'object' || Object.values(tls).some(Boolean);
  const envKey = nonEmpty(env[temporalEnvironment.apiKey]);
  const keyFile = fromFile(section?.api_key_file);
  return {
    address: nonEmpty(env[temporalEnvironment.address]) ?? section?.address ?? '127.0.0.1:7233',
    namespace: nonEmpty(env[temporalEnvironment.namespace]) ?? section?.namespace ?? 'default',
    tls: tlsWanted ? Object.fromEntries(Object.entries(tls).filter(([, value]) => value)) : undefined,
    apiKey: envKey ? { value: envKey, from: temporalEnvironment.apiKey } : keyFile ? { file: keyFile } : undefined,
  };
}

/** A setting that cannot be used, said in one line that names the setting. */
export class TemporalSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalSettingsError';
  }
}

/** What both SDK connections (client and worker) take: address, TLS material and API key. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
  apiKey?: string;
}

/** Reads the TLS files and the API key; a missing or unreadable file is a one-line error naming its setting. */
export function temporalConnectionOptions(settings: TemporalSettings): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: settings.address };
  const { tls } = settings;
  if (tls) {
    if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) {
      throw new TemporalSettingsError(
        `mTLS needs both a client certificate and its key: set ${temporalEnvironment.certFile} and ` +
          `${temporalEnvironment.keyFile} (or temporal.tls.cert_file and key_file), or neither`,
      );
    }
    options.tls = {
      serverNameOverride: tls.serverName,
      serverRootCACertificate: tls.caFile ? readSetting(tls.caFile, 'the server CA', 'caFile') : undefined,
      clientCertPair:
        tls.certFile && tls.keyFile
          ? {
              crt: readSetting(tls.certFile, 'the client certificate', 'certFile'),
              key: readSetting(tls.keyFile, 'the client key', 'keyFile'),
            }
          : undefined,
    };
  }
  if (settings.apiKey) {
    options.apiKey =
      'value' in settings.apiKey
        ? settings.apiKey.value
        : readSetting(settings.apiKey.file, 'the API key', 'apiKey').toString('utf8').trim();
  }
  return options;
}

function readSetting(file: string, what: string, setting: keyof typeof temporalEnvironment): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TemporalSettingsError(
      `cannot read ${what} for Temporal at ${file} (${code === 'ENOENT' ? 'no such file' : code}); ` +
        `fix ${temporalEnvironment[setting]} or the temporal section of conveyor.config.yml`,
    );
  }
}

/**
 * One line for a failed connection: a refused TLS handshake says which setting to check; anything else says the
 * server did not answer. The SDK's errors rarely say why TLS failed, so with TLS on, a handshake of our own with
 * the same material finds out (the server's certificate chain, its name, a missing client certificate).
 */
export async function temporalConnectionFailure(settings: TemporalSettings, error: unknown): Promise<string> {
  if (error instanceof TemporalSettingsError) return error.message;
  const at = `the Temporal server at ${settings.address}`;
  const reason = settings.tls ? await tlsHandshakeProblem(settings) : undefined;
  if (reason) return `cannot connect to ${at} over TLS: ${reason}`;
  const text = messagesOf(error).join(' | ');
  if (settings.tls && /certificate required|bad certificate|status code 400/i.test(text)) {
    return `cannot connect to ${at} over TLS: ${clientCertificateRefused}`;
  }
  return (
    `cannot reach ${at}; start the embedded stack with 'conveyor dev up' (or set ${temporalEnvironment.address}` +
    `${settings.tls ? ', and check that the server speaks TLS' : ''})`
  );
}

const clientCertificateRefused =
  `it refused Conveyor's client certificate; check ${temporalEnvironment.certFile} and ` +
  `${temporalEnvironment.keyFile} (or temporal.tls.cert_file and key_file)`;

const untrustedCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/** What is wrong with a TLS handshake using the settings' material, or undefined when it succeeds or cannot run. */
async function tlsHandshakeProblem(settings: TemporalSettings): Promise<string | undefined> {
  const match = /^(.*):(\d+)$/.exec(settings.address);
  if (!match) return undefined;
  const options = temporalConnectionOptions(settings).tls ?? {};
  const host = match[1]!.replace(/^\[|\]$/g, '');
  const servername = options.serverNameOverride ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port: Number(match[2]),
      servername,
      ca: options.serverRootCACertificate,
      cert: options.clientCertPair?.crt,
      key: options.clientCertPair?.key,
      ALPNProtocols: ['h2'],
      timeout: 3000,
    });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.once('secureConnect', () => done(undefined));
    socket.once('timeout', () => done(undefined));
    socket.once('error', (failure: NodeJS.ErrnoException) => {
      const code = failure.code ?? '';
      if (untrustedCodes.has(code)) {
        done(
          `its certificate is not signed by the CA Conveyor trusts; check ${temporalEnvironment.caFile} ` +
            '(or temporal.tls.ca_file)',
        );
      } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        done(
          `its certificate is not for '${servername ?? host}'; set ${temporalEnvironment.serverName} ` +
            '(or temporal.tls.server_name) to a name it is for',
        );
      } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
        done(`its certificate is not valid now (${code})`);
      } else if (/certificate required|bad certificate|unknown ca/i.test(failure.message)) {
        done(clientCertificateRefused);
      } else if (/wrong version number|packet length too long/i.test(failure.message)) {
        done(`it does not speak TLS; unset ${temporalEnvironment.tls} and the temporal.tls settings`);
      } else {
        done(undefined);
      }
    });
  });
}

function messagesOf(error: unknown): string[] {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string') messages.push(message);
    const details = (current as { details?: unknown }).details;
    if (typeof details === 'string') messages.push(details);
    current = (current as { cause?: unknown }).cause;
  }
  return messages;
}
