/**
 * Failure fingerprints (docs/investigations.md, "Grouping"): stable across runs, so that the same failure twice is
 * one incident. A fingerprint hashes the pipeline, job, step, reason class and a normalised signature of the error
 * lines, where numbers, ids, paths and timestamps are removed. Pure code: no Node builtins, so workflows may use it.
 */

/** Coarse classes of failure reasons: a retry that fails differently in detail is still the same failure. */
const reasonClasses: Record<string, string> = {
  exit_code: 'script',
  signal: 'script',
  oom_killed: 'oom',
  timed_out: 'timeout',
  run_timed_out: 'timeout',
  image_not_found: 'image',
  command_not_found: 'command',
  not_executable: 'command',
  infrastructure: 'infrastructure',
  terminated: 'infrastructure',
  configuration: 'configuration',
  artifact_missing: 'artifact',
  artifact_corrupted: 'artifact',
  artifact_unsafe: 'artifact',
  store_full: 'store',
};

/** The class of a run's failure reason (`exit_code` → `script`); unknown reasons are their own class. */
export function reasonClass(reason: string | undefined): string {
  if (!reason) return 'unknown';
  return reasonClasses[reason] ?? reason;
}

// Order matters: timestamps before numbers, ids before numbers, paths before anything inside them.
const normalisers: [RegExp, string][] = [
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/g, '<ts>'],
  [/\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b/g, '<ts>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>'],
  [/\b(run|incident|deploy)-[A-Za-z0-9_.-]+/g, '<id>'],
  [/\b(sha256:)?[0-9a-f]{12,}\b/gi, '<id>'],
  [/\b0x[0-9a-f]+\b/gi, '<n>'],
  [/(^|[\s'"(=:])(\/[^\s'"():]+)+/g, '$1<path>'],
  [/\b[A-Za-z]:\\[^\s'"]+/g, '<path>'],
  [/\d+(\.\d+)?/g, '<n>'],
  [/\s+/g, ' '],
];

/** One error line with everything that varies between repeats removed. */
export function normaliseErrorLine(line: string): string {
  let text = line.trim();
  for (const [pattern, replacement] of normalisers) text = text.replace(pattern, replacement);
  return text.trim().toLowerCase();
}

const errorWords =
  /error|fail|fatal|exception|denied|not found|cannot|can't|unable|no such|refused|killed|panic|abort/i;

/**
 * The lines that say what went wrong: up to `limit` lines of the tail that look like errors, else the last
 * non-empty line. Order is kept; duplicates after normalisation count once.
 */
export function errorLines(tail: readonly string[], limit = 3): string[] {
  const candidates = tail.filter((line) => errorWords.test(line));
  const chosen = candidates.length > 0 ? candidates.slice(-limit) : tail.filter((line) => line.trim()).slice(-1);
  return chosen;
}

/** The normalised signature of a failing step's output: its error lines, normalised, joined. */
export function errorSignature(tail: readonly string[]): string {
  const seen = new Set<string>();
  for (const line of errorLines(tail)) seen.add(normaliseErrorLine(line));
  return [...seen].join('\n');
}

/** What a failure fingerprint is computed from. */
export interface FingerprintInput {
  pipeline: string;
  job?: string;
  step?: string;
  reason?: string;
  /** The failing step's last lines of output. */
  tail: readonly string[];
}

/** A failure's fingerprint and its family (the same without the error signature: similar failures). */
export function failureFingerprint(input: FingerprintInput): { fingerprint: string; family: string } {
  const family = [input.pipeline, input.job ?? '', input.step ?? '', reasonClass(input.reason)].join('\u0000');
  return { fingerprint: shortHash(`${family}\u0000${errorSignature(input.tail)}`), family: shortHash(family) };
}

/**
 * A 64-bit FNV-1a hash as 16 hex characters: stable, dependency-free, and good enough to tell failures apart (not
 * a security boundary).
 */
export function shortHash(text: string): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= BigInt(text.charCodeAt(index));
    hash = (hash * prime) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}
