/**
 * The artifact store (docs/artifacts.md): content-addressed objects plus small metadata records, on a local
 * directory (`fs.ts`) or an S3 bucket (`s3.ts`). Both pass one contract test suite.
 *
 * Layout, the same on both backends (keys are `/`-separated, relative to the store's root or bucket):
 *
 * - `cas/sha256/<ab>/<cd>/<digest>` — content, immutable once published; `<digest>` is the SHA-256 (64 hex) of the
 *   object's bytes, `<ab>`/`<cd>` its first four hex digits (a two-level fan-out, as Git does).
 * - `meta/…` — small JSON records (artifact records, lineage); listing and retention read only these.
 * - `refs/<digest>/<holder>.json` — references that protect content from retention (running jobs, pins).
 * - `trash/sha256/<digest>` — content retention is deleting: moved out of `cas/` first, so that it can be put back
 *   when a record or reference appeared meanwhile, and purged after.
 * - `audit/…`, `logs/…` — retention audit records and step logs (S3 log store), outside the quota.
 *
 * Publishing content is write-to-a-temporary → verify → atomic publish, so a crash never leaves a partial or wrong
 * object under a digest; temporaries are reported to the caller (`onTemporary`) so that a retried activity can
 * remove what its crashed predecessor left, and `sweepTemporaries` removes orphans older than an hour.
 */
import type { Readable } from 'node:stream';

/** Which backend a store is. */
export type StoreKind = 'fs' | 's3';

/** A SHA-256 digest as 64 lowercase hex characters. */
export type HexDigest = string;

/** Something a content upload created that must not outlive it: a scratch file or an unfinished S3 upload. */
export type Temporary = { kind: 'file'; path: string } | { kind: 'multipart'; key: string; uploadId: string };

/** Options of `putContent`. */
export interface PutContentOptions {
  /** Refuse to publish unless the bytes hash to this digest (for callers that know it in advance). */
  expectedDigest?: HexDigest;
  /**
   * Runs once the digest and size are known, before the store checks whether the content exists: may throw to
   * refuse it. Callers record here that a record is about to use the digest, so that retention, which checks for
   * such uses before deleting content, cannot delete it between this check and the caller's record.
   */
  onDigest?: (digest: HexDigest, size: number) => Promise<void>;
  /**
   * Runs once the digest and size are known and the content is new, before anything is published: may throw to
   * refuse it (the quota check). Temporaries are removed either way.
   */
  beforePublish?: (digest: HexDigest, size: number) => Promise<void>;
  /** Told about every temporary as it is created, so a retried attempt can remove it after a crash. */
  onTemporary?: (temporary: Temporary) => void;
  /** Told the number of bytes consumed so far, at most a few times a second. */
  onProgress?: (bytes: number) => void;
  /** Aborts the upload; temporaries are removed. */
  signal?: AbortSignal;
}

/** What `putContent` did. */
export interface PutContentResult {
  digest: HexDigest;
  /** Bytes of the content. */
  size: number;
  /** Content bytes written to the store: 0 when identical content was already there (deduplicated). */
  bytesWritten: number;
  deduplicated: boolean;
}

/** A stored content object. */
export interface ContentInfo {
  digest: HexDigest;
  size: number;
  /** ISO timestamp of when it was published. */
  modifiedAt: string;
}

/** A metadata record's key and size. */
export interface RecordInfo {
  key: string;
  size: number;
  modifiedAt: string;
}

/**
 * The storage primitives both backends implement. Artifact semantics (records, references, retention) live above
 * this interface (activities/artifacts/), so a new backend only has to provide these.
 */
export interface ArtifactStore {
  readonly kind: StoreKind;
  /** Where the store is, for messages: a directory, or `s3://bucket at host:port`. */
  readonly location: string;

  /** Streams `source` into the store under its SHA-256, unless identical content is already there. */
  putContent(source: Readable, options?: PutContentOptions): Promise<PutContentResult>;
  /** The bytes of a content object (unverified: see `openVerified`); throws `ContentNotFoundError`. */
  getContent(digest: HexDigest): Promise<Readable>;
  /** Size and publication time of a content object, or `undefined` when it does not exist. Reads no content. */
  statContent(digest: HexDigest): Promise<ContentInfo | undefined>;
  /** Deletes a content object; false when it did not exist. */
  deleteContent(digest: HexDigest): Promise<boolean>;
  /** Every content object. */
  listContent(): AsyncIterable<ContentInfo>;
  /** Moves a content object into the trash; false when it did not exist. */
  retireContent(digest: HexDigest): Promise<boolean>;
  /** Moves a content object back from the trash (unless it was published again meanwhile); false when not there. */
  reinstateContent(digest: HexDigest): Promise<boolean>;
  /** Deletes a content object from the trash for good; false when it was not there. */
  purgeRetired(digest: HexDigest): Promise<boolean>;
  /** Every content object in the trash. */
  listRetired(): AsyncIterable<ContentInfo>;
  /**
   * A local file holding the content, when the backend keeps one (fs): readers may use it instead of copying.
   * Content files are never modified in place (publish is a rename), so an open descriptor keeps its bytes.
   */
  localContentPath?(digest: HexDigest): string;

  /** Writes a small JSON record atomically (readers see the old or the new one, never a mix). */
  putRecord(key: string, value: unknown): Promise<void>;
  /** Reads a record, or `undefined` when it does not exist. */
  getRecord<T>(key: string): Promise<T | undefined>;
  /** Deletes a record; false when it did not exist. */
  deleteRecord(key: string): Promise<boolean>;
  /** Records whose key starts with `prefix`, in key order. */
  listRecords(prefix: string): AsyncIterable<RecordInfo>;

  /** Removes one temporary a crashed attempt left (idempotent). */
  removeTemporary(temporary: Temporary): Promise<void>;
  /** Removes temporaries older than `olderThan` (and, on this host, those of dead processes); returns how many. */
  sweepTemporaries(olderThan: Date): Promise<number>;
}

/** The key of a content object. */
export function contentKey(digest: HexDigest): string {
  return `cas/sha256/${digest.slice(0, 2)}/${digest.slice(2, 4)}/${digest}`;
}

/** The key of a content object in the trash. */
export function retiredKey(digest: HexDigest): string {
  return `trash/sha256/${digest}`;
}

const hexDigestPattern = /^[0-9a-f]{64}$/;

/** Whether `value` is a SHA-256 digest in hex (ART-018: the format is checked before any lookup). */
export function isHexDigest(value: string): boolean {
  return hexDigestPattern.test(value);
}

/**
 * Accepts `sha256:<hex>` or `<hex>` and returns the hex digest; throws a readable error otherwise. Other
 * algorithms (MD5, CRC32) are refused: Conveyor uses SHA-256 only (ART-050).
 */
export function parseDigest(value: string): HexDigest {
  const hex = value.startsWith('sha256:') ? value.slice('sha256:'.length) : value;
  if (!isHexDigest(hex.toLowerCase())) {
    throw new InvalidDigestError(`'${value}' is not a SHA-256 digest (expected sha256: followed by 64 hex characters)`);
  }
  return hex.toLowerCase();
}

/** `sha256:<hex>`, the form records, status and the CLI show. */
export function formatDigest(digest: HexDigest): string {
  return `sha256:${digest}`;
}

/**
 * Checks a record key: relative, `/`-separated, no empty, `.` or `..` segment, no NUL or backslash. Keys are built
 * by Conveyor from slugs, so a bad key is a bug; the check keeps the fs backend inside its root regardless.
 */
export function checkRecordKey(key: string): string {
  if (
    key.length === 0 ||
    key.startsWith('/') ||
    key.includes('\0') ||
    key.includes('\\') ||
    key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')
  ) {
    throw new Error(`invalid store key '${key}'`);
  }
  return key;
}

/** A content object that does not exist (anymore). */
export class ContentNotFoundError extends Error {
  constructor(readonly digest: HexDigest) {
    super(`no content object sha256:${digest} in the store`);
    this.name = 'ContentNotFoundError';
  }
}

/** Content whose bytes did not hash to the digest the caller expected. */
export class ContentDigestMismatchError extends Error {
  constructor(
    readonly expected: HexDigest,
    readonly actual: HexDigest,
  ) {
    super(`content hashes to sha256:${actual.slice(0, 16)}…, expected sha256:${expected.slice(0, 16)}…`);
    this.name = 'ContentDigestMismatchError';
  }
}

/** Content whose byte count did not match what its record says (checked before the hash: ART-056). */
export class ContentSizeMismatchError extends ContentDigestMismatchError {
  constructor(
    expected: HexDigest,
    actual: HexDigest,
    readonly expectedSize: number,
    readonly actualSize: number,
  ) {
    super(expected, actual);
    this.message = `content has ${actualSize} bytes, expected ${expectedSize}`;
    this.name = 'ContentSizeMismatchError';
  }
}

/** A string that is not a SHA-256 digest. */
export class InvalidDigestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDigestError';
  }
}

/**
 * The store could not be reached or failed transiently (connection refused, reset, timeout, 5xx); retrying later
 * may succeed. Activities turn it into a retryable failure.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}
