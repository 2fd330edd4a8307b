/**
 * The router's memory of recent requests: a fixed-size ring of per-request records (time, track, version, backend,
 * status, latency) that the analysis reads by time window — the raw latencies its significance test needs, which
 * Prometheus histograms cannot give.
 */

/** Tracks a request can be served on ('none': no backend could take it). */
export const trackNames = ['stable', 'canary', 'preview', 'none'] as const;
/** A track name. */
export type SampleTrack = (typeof trackNames)[number];

/** One finished request. */
export interface Sample {
  /** When it finished, ms since the epoch. */
  t: number;
  track: SampleTrack;
  version: string;
  /** The backend's container name ('' when none). */
  backend: string;
  status: number;
  latencyMs: number;
}

/** A window of samples as the admin API serves it: dictionaries and rows of indexes, compact on the wire. */
export interface SampleWindow {
  tracks: readonly string[];
  versions: string[];
  backends: string[];
  /** `[t, track index, version index, backend index, status, latency ms]` per request, oldest first. */
  rows: Array<[number, number, number, number, number, number]>;
}

/** A ring of the last `capacity` samples. */
export class SampleRing {
  private readonly time: Float64Array;
  private readonly latency: Float32Array;
  private readonly status: Uint16Array;
  private readonly track: Uint8Array;
  private readonly version: Uint16Array;
  private readonly backend: Uint16Array;
  private readonly versions: string[] = [];
  private readonly backends: string[] = [];
  private next = 0;
  private size = 0;

  constructor(private readonly capacity = 200_000) {
    this.time = new Float64Array(capacity);
    this.latency = new Float32Array(capacity);
    this.status = new Uint16Array(capacity);
    this.track = new Uint8Array(capacity);
    this.version = new Uint16Array(capacity);
    this.backend = new Uint16Array(capacity);
  }

  private index(list: string[], value: string): number {
    let at = list.indexOf(value);
    if (at < 0) {
      // Names are few (versions and instances of one service); the dictionaries are bounded all the same.
      if (list.length >= 65_000) list.length = 0;
      at = list.push(value) - 1;
    }
    return at;
  }

  /** Records a finished request. */
  push(sample: Sample): void {
    const at = this.next;
    this.time[at] = sample.t;
    this.latency[at] = sample.latencyMs;
    this.status[at] = sample.status;
    this.track[at] = trackNames.indexOf(sample.track);
    this.version[at] = this.index(this.versions, sample.version);
    this.backend[at] = this.index(this.backends, sample.backend);
    this.next = (at + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Samples that finished in `[from, to)` (ms since the epoch), oldest first. */
  window(from: number, to: number): SampleWindow {
    const rows: SampleWindow['rows'] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i += 1) {
      const at = (start + i) % this.capacity;
      const t = this.time[at]!;
      if (t < from || t >= to) continue;
      rows.push([t, this.track[at]!, this.version[at]!, this.backend[at]!, this.status[at]!, this.latency[at]!]);
    }
    return { tracks: trackNames, versions: [...this.versions], backends: [...this.backends], rows };
  }
}
