/**
 * The store's quota and pressure levels (ART-080…084, docs/artifacts.md): usage counts content, metadata and
 * references (not logs or audit records); the level tightens retention, and at `critical` (98 %) new content is
 * refused with `store_full`.
 */
import { formatMemorySize } from '../../pipeline/memory-size';
import type { ArtifactStore } from '../store/store';
import { StoreFullError } from './errors';

/** How full the store is, from `green` to `critical`. */
export type PressureLevel = 'green' | 'yellow' | 'orange' | 'red' | 'critical';

/** The fraction of the quota at which each level starts. */
export const pressureThresholds = { yellow: 0.8, orange: 0.9, red: 0.95, critical: 0.98 } as const;

/** The level for `usedBytes` of `quotaBytes`. */
export function pressureLevel(usedBytes: number, quotaBytes: number): PressureLevel {
  const fraction = quotaBytes > 0 ? usedBytes / quotaBytes : 1;
  if (fraction >= pressureThresholds.critical) return 'critical';
  if (fraction >= pressureThresholds.red) return 'red';
  if (fraction >= pressureThresholds.orange) return 'orange';
  if (fraction >= pressureThresholds.yellow) return 'yellow';
  return 'green';
}

/** What the store holds against its quota (`conveyor artifacts stats`). */
export interface StoreUsage {
  /** Everything counted against the quota. */
  bytes: number;
  objects: number;
  contentBytes: number;
  contentObjects: number;
  /** Content being deleted by retention (in the trash). */
  retiredBytes: number;
  quotaBytes: number;
  /** Percentage of the quota used, one decimal. */
  usedPercent: number;
  level: PressureLevel;
}

/** Measures usage by listing (no content is read). */
export async function measureUsage(store: ArtifactStore, quotaBytes: number): Promise<StoreUsage> {
  const usage = { bytes: 0, objects: 0, contentBytes: 0, contentObjects: 0, retiredBytes: 0 };
  for await (const item of store.listContent()) {
    usage.contentBytes += item.size;
    usage.contentObjects += 1;
  }
  for await (const item of store.listRetired()) usage.retiredBytes += item.size;
  usage.bytes = usage.contentBytes + usage.retiredBytes;
  usage.objects = usage.contentObjects;
  for (const prefix of ['meta/', 'refs/']) {
    for await (const record of store.listRecords(prefix)) {
      usage.bytes += record.size;
      usage.objects += 1;
    }
  }
  return {
    ...usage,
    quotaBytes,
    usedPercent: Math.round((usage.bytes / quotaBytes) * 1000) / 10,
    level: pressureLevel(usage.bytes, quotaBytes),
  };
}

/**
 * Admits new content while the store stays below its critical level. Usage is measured at most every `cacheMs`
 * (listing a large bucket is not free) and what this process admitted since is added to it.
 */
export class QuotaGuard {
  private measured: { at: number; bytes: number } | undefined;
  private admittedSince = 0;

  constructor(
    private readonly store: ArtifactStore,
    readonly quotaBytes: number,
    private readonly cacheMs = 10_000,
  ) {}

  /** Bytes in use, as of at most `cacheMs` ago plus what was admitted since. */
  async usedBytes(): Promise<number> {
    if (!this.measured || Date.now() - this.measured.at > this.cacheMs) {
      const usage = await measureUsage(this.store, this.quotaBytes);
      this.measured = { at: Date.now(), bytes: usage.bytes };
      this.admittedSince = 0;
    }
    return this.measured.bytes + this.admittedSince;
  }

  /** Throws StoreFullError unless `size` more bytes keep the store below critical. */
  async admit(size: number): Promise<void> {
    const used = await this.usedBytes();
    if (pressureLevel(used + size, this.quotaBytes) === 'critical') {
      const percent = ((used / this.quotaBytes) * 100).toFixed(1);
      throw new StoreFullError(
        `the artifact store is full: ${percent} % of its ${formatMemorySize(this.quotaBytes)} quota is used ` +
          `(${formatMemorySize(used)}), and ${formatMemorySize(size)} more would reach the critical level ` +
          `(${pressureThresholds.critical * 100} %); free space with 'conveyor artifacts gc', or raise artifacts.quota ` +
          'in conveyor.config.yml',
        { quotaBytes: this.quotaBytes, usedBytes: used, requestedBytes: size },
      );
    }
    this.admittedSince += size;
  }
}
