/**
 * Scrubbing (docs/artifacts.md, ART-051 (2) and (6)): every stored object re-hashed, and metadata and objects
 * cross-checked — a record whose object is gone, an object nothing records, uses or references.
 */
import type { ArtifactStore, HexDigest } from '../store/store';
import { ArtifactCatalog, recordHex, type ArtifactRecord } from './catalog';
import { verifyContent } from './transfer';

/** One problem a scrub found. */
export interface ScrubFinding {
  kind: 'corrupted' | 'missing' | 'orphaned';
  digest: HexDigest;
  /** What it is and what is wrong, for people. */
  detail: string;
  size?: number;
  /** The record concerned (missing objects). */
  record?: string;
}

/** What a scrub saw. */
export interface ScrubReport {
  objects: number;
  bytes: number;
  records: number;
  findings: ScrubFinding[];
}

function describe(record: ArtifactRecord): string {
  return `artifact '${record.name}' of job '${record.job}' in run ${record.run}`;
}

/** Re-hashes the content of `records` (a run's artifacts); missing objects are findings too. */
export async function verifyRecords(
  store: ArtifactStore,
  records: { key: string; record: ArtifactRecord }[],
  onObject: (digest: HexDigest) => void = () => undefined,
): Promise<ScrubReport> {
  const report: ScrubReport = { objects: 0, bytes: 0, records: records.length, findings: [] };
  for (const { key, record } of records) {
    const digest = recordHex(record);
    onObject(digest);
    const check = await verifyContent(store, digest);
    if (check.status === 'missing') {
      report.findings.push({ kind: 'missing', digest, record: key, detail: `${describe(record)}: its object is gone` });
      continue;
    }
    report.objects += 1;
    report.bytes += check.size;
    if (check.status === 'corrupted') {
      report.findings.push({
        kind: 'corrupted',
        digest,
        size: check.size,
        detail: `${describe(record)}: hashes to sha256:${check.actual.slice(0, 16)}…`,
      });
    }
  }
  return report;
}

/** Scrubs the whole store. Use markers younger than an hour count as metadata (an upload in progress). */
export async function scrubStore(
  store: ArtifactStore,
  onObject: (digest: HexDigest) => void = () => undefined,
  now = new Date(),
): Promise<ScrubReport> {
  const catalog = new ArtifactCatalog(store);
  const report: ScrubReport = { objects: 0, bytes: 0, records: 0, findings: [] };
  const recorded = new Map<HexDigest, string>();
  for await (const { key, record } of catalog.listRecords()) {
    report.records += 1;
    const digest = recordHex(record);
    recorded.set(digest, describe(record));
    if (!(await store.statContent(digest))) {
      report.findings.push({ kind: 'missing', digest, record: key, detail: `${describe(record)}: its object is gone` });
    }
  }
  const claimed = new Set<HexDigest>();
  for await (const { key, modifiedAt } of store.listRecords('meta/uses/')) {
    if (now.getTime() - Date.parse(modifiedAt) < 3600_000) claimed.add(key.split('/')[2] ?? '');
  }
  for await (const { key } of store.listRecords('refs/')) claimed.add(key.split('/')[1] ?? '');
  for await (const content of store.listContent()) {
    onObject(content.digest);
    const check = await verifyContent(store, content.digest);
    if (check.status === 'missing') continue; // deleted while we looked
    report.objects += 1;
    report.bytes += check.size;
    const what = recorded.get(content.digest) ?? 'an object';
    if (check.status === 'corrupted') {
      report.findings.push({
        kind: 'corrupted',
        digest: content.digest,
        size: check.size,
        detail: `${what}: hashes to sha256:${check.actual.slice(0, 16)}…`,
      });
    }
    if (!recorded.has(content.digest) && !claimed.has(content.digest)) {
      report.findings.push({
        kind: 'orphaned',
        digest: content.digest,
        size: check.size,
        detail: `${check.size} bytes that no record uses and nothing references`,
      });
    }
  }
  return report;
}
