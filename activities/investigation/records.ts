/**
 * Where an investigation keeps its documents, evidence and index in the artifact store (docs/investigations.md,
 * "Storage"): small JSON records under `incidents/`, outside the content-addressed area, so retention never
 * touches them. The index (one record per incident) makes incidents listable and searchable (INC-052, INC-074).
 */
import type { ArtifactStore } from '../store/store';

/** One incident in the index. */
export interface IncidentIndexEntry {
  id: string;
  fingerprint: string;
  family: string;
  status: string;
  source: string;
  title: string;
  pipeline?: string;
  subject: { run?: string; deployment?: string; alert?: string };
  count: number;
  openedAt: string;
  /** The investigated cause, once reported. */
  cause?: string;
  confidence?: number;
  summary?: string;
  /** A human's cause, once resolved. */
  confirmedCause?: string;
  resolvedAt?: string;
}

/** A stored document. */
export interface IncidentDocument {
  name: 'Problem.md' | 'Plan.md' | 'RCA.md';
  markdown: string;
}

/** The index record of an incident. */
export function indexKey(incidentId: string): string {
  return `incidents/index/${incidentId}.json`;
}

/** A document's record key: `incidents/<id>/Problem.md.json`. */
export function documentKey(incidentId: string, name: IncidentDocument['name']): string {
  return `incidents/${incidentId}/${name}.json`;
}

/** A hypothesis' stored evidence. */
export function evidenceKey(incidentId: string, cause: string): string {
  return `incidents/${incidentId}/evidence/${cause}.json`;
}

/** The LLM narrative's exchange: the prompt sent and the answer (docs/investigations.md, "Optional LLM narrative"). */
export function narrativeKey(incidentId: string): string {
  return `incidents/${incidentId}/narrative.json`;
}

/** The framed facts. */
export function frameKey(incidentId: string): string {
  return `incidents/${incidentId}/frame.json`;
}

/** Writes a document and returns its key. */
export async function putDocument(
  store: ArtifactStore,
  incidentId: string,
  document: IncidentDocument,
): Promise<string> {
  const key = documentKey(incidentId, document.name);
  await store.putRecord(key, document);
  return key;
}

/** How many index records `listIndex` reads at once: one read after another costs a round trip per incident. */
const indexReadConcurrency = 16;

/** Every incident in the index, in id order. */
export async function* listIndex(store: ArtifactStore): AsyncIterable<IncidentIndexEntry> {
  let keys: string[] = [];
  const read = async function* () {
    const entries = await Promise.all(keys.map((key) => store.getRecord<IncidentIndexEntry>(key)));
    keys = [];
    for (const entry of entries) if (entry) yield entry;
  };
  for await (const { key } of store.listRecords('incidents/index/')) {
    keys.push(key);
    if (keys.length >= indexReadConcurrency) yield* read();
  }
  yield* read();
}

/**
 * Where an incident is also filed under its family and its fingerprint (a copy of its index entry), so a new
 * incident finds its similar ones by listing two prefixes instead of reading the whole index.
 */
export function similarKey(group: string, incidentId: string): string {
  return `incidents/similar/${group}/${incidentId}.json`;
}

/** Written once every incident indexed before the similarity records existed has been filed under them. */
const similarFiledKey = 'incidents/similar-filed.json';

function groupsOf(entry: Pick<IncidentIndexEntry, 'family' | 'fingerprint'>): string[] {
  return [...new Set([entry.family, entry.fingerprint])];
}

/** Writes an incident's index entry and its copies under its family and fingerprint. */
export async function writeIndex(store: ArtifactStore, entry: IncidentIndexEntry): Promise<void> {
  await Promise.all([
    store.putRecord(indexKey(entry.id), entry),
    ...groupsOf(entry).map((group) => store.putRecord(similarKey(group, entry.id), entry)),
  ]);
}

/** The incidents with this family or fingerprint (the asking incident included), in no particular order. */
export async function similarEntries(
  store: ArtifactStore,
  wanted: Pick<IncidentIndexEntry, 'family' | 'fingerprint'>,
): Promise<IncidentIndexEntry[]> {
  const matches = (entry: IncidentIndexEntry) =>
    entry.family === wanted.family || entry.fingerprint === wanted.fingerprint;
  if (!(await store.getRecord(similarFiledKey))) {
    // Incidents indexed before the similarity records: filed once (idempotent if two investigations race here).
    const found: IncidentIndexEntry[] = [];
    for await (const entry of listIndex(store)) {
      await Promise.all(groupsOf(entry).map((group) => store.putRecord(similarKey(group, entry.id), entry)));
      if (matches(entry)) found.push(entry);
    }
    await store.putRecord(similarFiledKey, { filedAt: new Date().toISOString() });
    return found;
  }
  const keys = new Map<string, string>();
  for (const group of groupsOf(wanted)) {
    for await (const { key } of store.listRecords(`incidents/similar/${group}/`)) keys.set(key.split('/').pop()!, key);
  }
  const entries = await Promise.all([...keys.values()].map((key) => store.getRecord<IncidentIndexEntry>(key)));
  return entries.filter((entry): entry is IncidentIndexEntry => entry !== undefined && matches(entry));
}
