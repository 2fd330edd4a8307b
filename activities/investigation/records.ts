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
