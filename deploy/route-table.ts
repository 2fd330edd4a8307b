/**
 * What a traffic router serves (docs/deployments.md#traffic-routers): two tracks, `stable` and `canary`, with a share
 * of traffic each and their backends, plus the `preview` backends served on the preview port. Both routers take the
 * same table; how a request picks its track is defined here once so they agree.
 */

/** One instance behind the router. */
export interface Backend {
  /** The instance's container name. */
  name: string;
  version: string;
  /** `ip:port` on the deployment's network. */
  address: string;
}

/** One track: its share of traffic (%) and its backends (round robin within the track). */
export interface Track {
  weight: number;
  backends: Backend[];
}

/** Everything a router serves. */
export interface RouteTable {
  /** Keep a client on its track with a cookie (a bucket that only moves when the weights do). */
  sticky: boolean;
  stable: Track;
  canary: Track;
  /** Served on the preview port (blue-green's idle colour). */
  preview: Backend[];
}

/** A backend as the workflow names it: the instance and the port it listens on; the router activity finds its address. */
export interface IntendedBackend {
  name: string;
  version: string;
  port: number;
}

/** A route table as the workflow writes it: instances by name; the router activity fills in their addresses. */
export interface RouteIntent {
  sticky: boolean;
  stable: { weight: number; backends: IntendedBackend[] };
  canary: { weight: number; backends: IntendedBackend[] };
  preview: IntendedBackend[];
}

/** Track names as requests see them. */
export type TrackName = 'stable' | 'canary';

/** The cookie that keeps a client on its track when sticky. */
export const stickyCookie = 'conveyor_bucket';
/** The request header that picks a track for testers: `X-Conveyor-Version: canary` or `stable`. */
export const versionHeader = 'x-conveyor-version';
/** Buckets a client key falls into: weights apply to bucket ranges, so 0.01 % steps. */
export const bucketCount = 10_000;

/** A table that serves nothing (a router before its first rollout). */
export const emptyRouteTable: RouteTable = {
  sticky: false,
  stable: { weight: 100, backends: [] },
  canary: { weight: 0, backends: [] },
  preview: [],
};

/** What is wrong with a table, or undefined: weights are 0–100 and add up to 100; a track with weight has backends. */
export function checkRouteTable(table: RouteTable): string | undefined {
  for (const name of ['stable', 'canary'] as const) {
    const { weight } = table[name];
    if (!Number.isInteger(weight) || weight < 0 || weight > 100) return `${name} weight ${weight} is not 0–100`;
  }
  if (table.stable.weight + table.canary.weight !== 100) {
    return `weights add up to ${table.stable.weight + table.canary.weight}, not 100`;
  }
  if (table.canary.weight > 0 && table.canary.backends.length === 0) return 'the canary has weight but no backends';
  const addresses = [...table.stable.backends, ...table.canary.backends, ...table.preview].map((b) => b.address);
  if (addresses.some((address) => !/^[^:\s]+:\d{1,5}$/.test(address))) return 'a backend address is not host:port';
  return undefined;
}

/** FNV-1a of a string, for turning a sticky cookie into a bucket. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The track a request goes to: the tester's header when that track has backends; else by bucket — buckets below
 * `canary.weight` % go to the canary — falling back to whichever track has backends; undefined when none has.
 */
export function pickTrack(table: RouteTable, bucket: number, forced?: string): TrackName | undefined {
  const has = (track: TrackName) => table[track].backends.length > 0;
  if ((forced === 'canary' || forced === 'stable') && has(forced)) return forced;
  const preferred: TrackName = bucket < (table.canary.weight * bucketCount) / 100 ? 'canary' : 'stable';
  if (has(preferred)) return preferred;
  const other: TrackName = preferred === 'canary' ? 'stable' : 'canary';
  return has(other) ? other : undefined;
}
