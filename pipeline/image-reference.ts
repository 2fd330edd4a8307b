// The grammar of github.com/distribution/reference, the one Docker itself applies, written out piece by piece.
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const referencePattern = new RegExp(
  `^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*(?::${tag})?(?:@${digest})?$`,
);

/**
 * Checks an image reference without pulling it (`registry/repo:tag`, `repo@sha256:…`, `ubuntu:20.04`).
 * Returns `undefined` when valid, else what is wrong, phrased for a user.
 */
export function checkImageReference(reference: string): string | undefined {
  if (reference.trim() === '') return 'the image reference is empty';
  if (reference.length > 255 + 128 + 80) return 'the image reference is too long';
  if (/\s/.test(reference)) return `image reference '${reference}' contains whitespace`;
  if (referencePattern.test(reference)) return undefined;
  const withoutDomain = reference.includes('/') ? reference.slice(reference.indexOf('/') + 1) : reference;
  const repository = withoutDomain.split(/[:@]/)[0] ?? '';
  if (/[A-Z]/.test(repository)) {
    return `image reference '${reference}' is invalid: repository names must be lowercase`;
  }
  if (reference.endsWith(':')) return `image reference '${reference}' has an empty tag`;
  return `image reference '${reference}' is invalid`;
}
