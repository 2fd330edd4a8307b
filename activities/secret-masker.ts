/**
 * Masks secret values in step output before it is stored anywhere. Output is masked line by line after the
 * stream has been split into whole lines, so a value that arrives split across two chunks is still found; a
 * multi-line secret is masked line by line.
 */

/** The text shown in place of a secret. */
export const maskText = '***';

/** Returns a function that replaces every occurrence of every secret value in a line. */
export function createSecretMasker(secretValues: readonly string[]): (line: string) => string {
  const needles = [
    ...new Set(
      secretValues.flatMap((value) => [value, ...value.split(/\r?\n/)]).filter((value) => value.trim() !== ''),
    ),
  ].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (line) => line;
  return (line) => {
    let masked = line;
    for (const needle of needles) if (masked.includes(needle)) masked = masked.split(needle).join(maskText);
    return masked;
  };
}
