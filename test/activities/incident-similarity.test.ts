/**
 * Finding an incident's similar past incidents in the store (docs/investigations.md, "Memory"): by listing the
 * records filed under its family and fingerprint, not by reading the whole index — and incidents indexed before
 * those records existed are filed once, on the first search, so none is lost.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { indexKey, similarEntries, writeIndex, type IncidentIndexEntry } from '../../activities/investigation/records';
import { createFsStore } from '../../activities/store/fs';
import type { ArtifactStore } from '../../activities/store/store';

function entry(id: string, family: string, fingerprint: string, cause?: string): IncidentIndexEntry {
  return {
    id,
    family,
    fingerprint,
    status: 'open',
    source: 'conveyor',
    title: id,
    subject: { run: `run-${id}` },
    count: 1,
    openedAt: '2026-01-01T00:00:00.000Z',
    ...(cause && { cause }),
  };
}

const ids = (entries: IncidentIndexEntry[]) => entries.map((found) => found.id).sort();

describe('similar incidents in the store', () => {
  let dir = '';
  let store: ArtifactStore;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'conveyor-similar-'));
    store = createFsStore(path.join(dir, 'store'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('files incidents indexed before the similarity records once, then finds new ones by family or fingerprint', async () => {
    // Indexed the old way: only the index record.
    await store.putRecord(indexKey('old-a'), entry('old-a', 'fam-1', 'fp-1', 'oom'));
    await store.putRecord(indexKey('old-b'), entry('old-b', 'fam-2', 'fp-2'));
    assert.deepEqual(ids(await similarEntries(store, { family: 'fam-1', fingerprint: 'fp-9' })), ['old-a']);

    // Every old entry is now filed: a search for the other family finds it without the whole index.
    await store.deleteRecord(indexKey('old-b'));
    assert.deepEqual(ids(await similarEntries(store, { family: 'fam-2', fingerprint: 'fp-9' })), ['old-b']);

    await writeIndex(store, entry('new-c', 'fam-1', 'fp-3'));
    await writeIndex(store, entry('new-d', 'fam-3', 'fp-1'));
    await writeIndex(store, entry('new-e', 'fam-4', 'fp-4'));
    assert.deepEqual(ids(await similarEntries(store, { family: 'fam-1', fingerprint: 'fp-1' })), [
      'new-c',
      'new-d',
      'old-a',
    ]);

    // A rewritten entry (the incident resolved) is read back as rewritten.
    await writeIndex(store, { ...entry('new-c', 'fam-1', 'fp-3'), status: 'resolved', confirmedCause: 'timeout' });
    const found = await similarEntries(store, { family: 'fam-1', fingerprint: 'fp-3' });
    assert.equal(found.find((incident) => incident.id === 'new-c')?.confirmedCause, 'timeout');
    assert.equal((await store.getRecord<IncidentIndexEntry>(indexKey('new-c')))?.status, 'resolved');
  });
});
