/**
 * Artifact metadata on top of the store's records (docs/artifacts.md): what was published under which name by
 * which job, which records use a digest, who holds a reference to it, and who consumed it. Every fact is its own
 * small object, written whole, so concurrent writers never lose each other's updates and nothing here reads content.
 *
 * - `meta/artifacts/<pipeline>/<run>/<job>/<name>.json` — an `ArtifactRecord`;
 * - `meta/uses/<digest>/<pipeline>~<run>~<job>~<name>.json` — "this record uses this content", written *before*
 *   an upload checks whether the content already exists, so retention never deletes content a new record is about
 *   to point to;
 * - `refs/<digest>/<holder>.json` — a reference: a queued or running job holding its input, or a pin;
 * - `meta/consumers/<digest>/<run>~<job>.json` — lineage: a job that downloaded it.
 *
 * Path segments are slugs (activities/names.ts), readable and collision-free; the records carry the real names.
 */
import { slug } from '../names';
import type { RetentionPolicy } from '../../pipeline/retention-policy';
import { formatDigest, type ArtifactStore, type HexDigest } from '../store/store';

/** How an artifact's content is compressed in the store. */
export type ArtifactCompression = 'none' | 'gzip';

/** The facts about one artifact a job published. Plain JSON. */
export interface ArtifactRecord {
  version: 1;
  name: string;
  pipeline: string;
  run: string;
  job: string;
  /** `sha256:<hex>` of the stored bytes. */
  digest: string;
  /** Bytes stored. */
  size: number;
  /** Regular files in the archive. */
  files: number;
  compression: ArtifactCompression;
  /** `application/x-tar`, or `application/gzip` when compressed. */
  mediaType: string;
  /** The paths and globs it was packed from. */
  paths: string[];
  createdAt: string;
  /** Last download (or creation); retention's "last access". */
  lastAccessedAt: string;
  /** When its policy would let it go if nothing uses or references it (informational). */
  expiresAt?: string;
  /** The pipeline's own retention policies (`artifacts.retention`), consulted before the configured ones. */
  retention?: RetentionPolicy[];
  producer: { run: string; job: string; jobAttempt: number };
}

/** What a run's status says about an artifact: `{"digest": "sha256:…", "size": N, "files": N}`. */
export interface ArtifactSummary {
  digest: string;
  size: number;
  files: number;
}

/** A reference that protects content from retention. */
export type ArtifactReference =
  { kind: 'job'; run: string; job: string; since: string } | { kind: 'pin'; since: string; note?: string };

/** The key of an artifact record. */
export function artifactRecordKey(pipeline: string, run: string, job: string, name: string): string {
  return `meta/artifacts/${slug(pipeline)}/${slug(run)}/${slug(job)}/${slug(name)}.json`;
}

function useKey(digest: HexDigest, record: Pick<ArtifactRecord, 'pipeline' | 'run' | 'job' | 'name'>): string {
  return `meta/uses/${digest}/${slug(record.pipeline)}~${slug(record.run)}~${slug(record.job)}~${slug(record.name)}.json`;
}

/** The holder name of a job's reference. */
export function jobHolder(run: string, job: string): string {
  return `job~${slug(run)}~${slug(job)}`;
}

/** The holder name of the pin (one per digest). */
export const pinHolder = 'pin';

/** The hex digest of a record's `sha256:` digest. */
export function recordHex(record: Pick<ArtifactRecord, 'digest'>): HexDigest {
  return record.digest.replace(/^sha256:/, '');
}

/** Artifact records and references in one store. */
export class ArtifactCatalog {
  constructor(readonly store: ArtifactStore) {}

  /** Marks that a record of `identity` is about to use `digest` (before the upload checks whether it exists). */
  async markUse(digest: HexDigest, identity: Pick<ArtifactRecord, 'pipeline' | 'run' | 'job' | 'name'>): Promise<void> {
    await this.store.putRecord(useKey(digest, identity), {
      key: artifactRecordKey(identity.pipeline, identity.run, identity.job, identity.name),
      at: new Date().toISOString(),
    });
  }

  /** Whether any record uses `digest`. */
  async isUsed(digest: HexDigest): Promise<boolean> {
    for await (const _ of this.store.listRecords(`meta/uses/${digest}/`)) return true;
    return false;
  }

  /** Writes a record (replacing an earlier one of the same run, job and name). */
  async putRecord(record: ArtifactRecord): Promise<string> {
    const key = artifactRecordKey(record.pipeline, record.run, record.job, record.name);
    await this.store.putRecord(key, record);
    return key;
  }

  /** Reads the record at `key`. */
  getRecord(key: string): Promise<ArtifactRecord | undefined> {
    return this.store.getRecord<ArtifactRecord>(key);
  }

  /** The record a job published under `name`, if any. */
  findRecord(pipeline: string, run: string, job: string, name: string): Promise<ArtifactRecord | undefined> {
    return this.getRecord(artifactRecordKey(pipeline, run, job, name));
  }

  /** Deletes a record and its use marker. */
  async deleteRecord(key: string, record: ArtifactRecord): Promise<void> {
    await this.store.deleteRecord(useKey(recordHex(record), record));
    await this.store.deleteRecord(key);
  }

  /**
   * Records, optionally of one pipeline and/or one run, in key order. A run alone is found by its key segment
   * without reading other runs' records.
   */
  async *listRecords(
    filter: { pipeline?: string; run?: string } = {},
  ): AsyncIterable<{ key: string; record: ArtifactRecord }> {
    const prefix = filter.pipeline
      ? `meta/artifacts/${slug(filter.pipeline)}/${filter.run ? `${slug(filter.run)}/` : ''}`
      : 'meta/artifacts/';
    const runSegment = filter.run ? slug(filter.run) : undefined;
    for await (const { key } of this.store.listRecords(prefix)) {
      if (runSegment && key.split('/')[3] !== runSegment) continue;
      const record = await this.store.getRecord<ArtifactRecord>(key);
      if (record) yield { key, record };
    }
  }

  /** The newest record named `name` of `pipeline` (cross-pipeline use: `artifacts get --pipeline P NAME --latest`). */
  async latest(pipeline: string, name: string): Promise<{ key: string; record: ArtifactRecord } | undefined> {
    let best: { key: string; record: ArtifactRecord } | undefined;
    for await (const entry of this.listRecords({ pipeline })) {
      if (entry.record.name !== name) continue;
      if (!best || entry.record.createdAt > best.record.createdAt) best = entry;
    }
    return best;
  }

  /** Updates a record's last access (a download); concurrent updates all write "now", so none is lost. */
  async touch(key: string, record: ArtifactRecord, at = new Date()): Promise<void> {
    await this.store.putRecord(key, { ...record, lastAccessedAt: at.toISOString() });
  }

  /** Adds (or renews) a reference to `digest`. */
  async addReference(digest: HexDigest, holder: string, reference: ArtifactReference): Promise<void> {
    await this.store.putRecord(`refs/${digest}/${holder}.json`, reference);
  }

  /** Removes a reference; false when it was not there. */
  removeReference(digest: HexDigest, holder: string): Promise<boolean> {
    return this.store.deleteRecord(`refs/${digest}/${holder}.json`);
  }

  /** The references to `digest`, by holder. */
  async references(digest: HexDigest): Promise<{ holder: string; reference: ArtifactReference }[]> {
    const result: { holder: string; reference: ArtifactReference }[] = [];
    for await (const { key } of this.store.listRecords(`refs/${digest}/`)) {
      const reference = await this.store.getRecord<ArtifactReference>(key);
      if (reference) result.push({ holder: key.slice(key.lastIndexOf('/') + 1, -'.json'.length), reference });
    }
    return result;
  }

  /** Every reference in the store, by digest (retention loads them once per cycle). */
  async allReferences(): Promise<Map<HexDigest, { holder: string; reference: ArtifactReference }[]>> {
    const result = new Map<HexDigest, { holder: string; reference: ArtifactReference }[]>();
    for await (const { key } of this.store.listRecords('refs/')) {
      const [, digest, file] = key.split('/');
      if (!digest || !file) continue;
      const reference = await this.store.getRecord<ArtifactReference>(key);
      if (!reference) continue;
      const list = result.get(digest) ?? [];
      list.push({ holder: file.slice(0, -'.json'.length), reference });
      result.set(digest, list);
    }
    return result;
  }

  /** Records that `job` of `run` consumed `digest` (lineage, ART-011). */
  async recordConsumer(digest: HexDigest, run: string, job: string): Promise<void> {
    await this.store.putRecord(`meta/consumers/${digest}/${slug(run)}~${slug(job)}.json`, {
      run,
      job,
      at: new Date().toISOString(),
    });
  }

  /** The jobs that consumed `digest`. */
  async consumers(digest: HexDigest): Promise<{ run: string; job: string; at: string }[]> {
    const result: { run: string; job: string; at: string }[] = [];
    for await (const { key } of this.store.listRecords(`meta/consumers/${digest}/`)) {
      const consumer = await this.store.getRecord<{ run: string; job: string; at: string }>(key);
      if (consumer) result.push(consumer);
    }
    return result;
  }

  /** Removes everything about `digest` that outlives its content: lineage and stale references. */
  async forgetDigest(digest: HexDigest): Promise<void> {
    for (const prefix of [`meta/consumers/${digest}/`, `refs/${digest}/`]) {
      const keys: string[] = [];
      for await (const { key } of this.store.listRecords(prefix)) keys.push(key);
      for (const key of keys) await this.store.deleteRecord(key);
    }
  }
}

/** The summary a run's status shows for a record. */
export function summarise(record: Pick<ArtifactRecord, 'digest' | 'size' | 'files'>): ArtifactSummary {
  return { digest: record.digest, size: record.size, files: record.files };
}

export { formatDigest };
