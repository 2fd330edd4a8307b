const units: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  ki: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a memory size into bytes: a number of bytes, or a string such as `512Mi`, `512m` (Docker style,
 * binary), `1g`, `2GiB`, `500MB` (decimal). Returns `undefined` for anything else.
 */
export function parseMemorySize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  if (!match) return undefined;
  const multiplier = units[(match[2] ?? '').toLowerCase()];
  if (multiplier === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * multiplier);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** Formats bytes for messages: `512 MiB`, `1.5 GiB`, `900 B`. */
export function formatMemorySize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(2)} KiB`;
  return `${bytes} B`;
}
