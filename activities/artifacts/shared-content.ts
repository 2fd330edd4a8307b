/**
 * One verified, checked local copy of a stored archive shared by the activities of a worker that need it at the
 * same time (docs/benchmarks.md, "Source checkout: where the time went"): when ten jobs of a run start together,
 * the run's source archive is downloaded, hashed and its entries checked once, not ten times. Content-addressed,
 * so sharing is safe: every user gets exactly the bytes whose digest and size were checked. The local copy is
 * removed when its last user releases it, so nothing outlives the activities that used it.
 */
import type { Readable } from 'node:stream';
import { inspectArchive, type ArchiveContents } from './archive-read';
import { fetchVerified, type VerifiedContent } from './transfer';
import type { ArtifactStore, HexDigest } from '../store/store';

/** A verified archive whose every entry passed the extraction guard, until released. */
export interface CheckedArchive {
  /** A fresh stream of the verified bytes. */
  open(): Readable;
  contents: ArchiveContents;
  /** Milliseconds spent fetching and verifying, then checking the entries (0 for a user that found it ready). */
  timings: { fetchMs: number; checkMs: number };
  release(): Promise<void>;
}

interface Entry {
  ready: Promise<{ content: VerifiedContent; contents: ArchiveContents; fetchMs: number; checkMs: number }>;
  users: number;
  listeners: Set<() => void>;
}

/** Shares verified copies of uncompressed tar archives among concurrent users of one store. */
export class SharedArchives {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly spoolDir: string,
  ) {}

  /**
   * The archive `digest`, verified against it and `expectedSize` and checked entry by entry (throws what
   * `fetchVerified` and `inspectArchive` throw). `onProgress` is called while it is being fetched, also when
   * another user started the fetch, so each waiting activity can heartbeat. `signal` stops this user waiting; the
   * fetch itself goes on for the others (and its copy is removed once nobody holds it).
   */
  async acquire(
    digest: HexDigest,
    expectedSize: number,
    onProgress: () => void,
    signal?: AbortSignal,
  ): Promise<CheckedArchive> {
    const key = `${digest}:${expectedSize}`;
    let entry = this.entries.get(key);
    const first = !entry;
    if (!entry) {
      const listeners = new Set<() => void>();
      const ready = this.fetchAndCheck(digest, expectedSize, () => listeners.forEach((listener) => listener()));
      entry = { ready, users: 0, listeners };
      this.entries.set(key, entry);
      // A failed fetch is not kept: the next user tries again.
      ready.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
    }
    const shared = entry;
    shared.users += 1;
    shared.listeners.add(onProgress);
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      shared.listeners.delete(onProgress);
      shared.users -= 1;
      if (shared.users > 0) return;
      if (this.entries.get(key) === shared) this.entries.delete(key);
      await shared.ready.then(
        (ready) => ready.content.release(),
        () => undefined,
      );
    };
    try {
      const ready = await untilAborted(shared.ready, signal);
      shared.listeners.delete(onProgress);
      return {
        open: () => ready.content.open(),
        contents: ready.contents,
        timings: first ? { fetchMs: ready.fetchMs, checkMs: ready.checkMs } : { fetchMs: 0, checkMs: 0 },
        release,
      };
    } catch (error) {
      // Not awaited: a cancelled user does not wait for the fetch others may still need.
      void release().catch(() => undefined);
      throw error;
    }
  }

  private async fetchAndCheck(digest: HexDigest, expectedSize: number, onProgress: () => void) {
    const started = performance.now();
    const content = await fetchVerified(this.store, digest, { expectedSize, spoolDir: this.spoolDir, onProgress });
    const fetched = performance.now();
    try {
      const contents = await inspectArchive(content.open(), 'none');
      return { content, contents, fetchMs: fetched - started, checkMs: performance.now() - fetched };
    } catch (error) {
      await content.release();
      throw error;
    }
  }
}

/** `promise`, or a rejection as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
