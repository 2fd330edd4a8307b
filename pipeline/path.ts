/** One step of a path into the pipeline document: a mapping key or a sequence index. */
export type PathSegment = string | number;

const plainKey = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Formats a document path the way users read it: `jobs.build.steps[0].image`.
 *
 * Keys that are not plain identifiers are quoted (`jobs["test (node=18)"]`); the empty path is `''`.
 */
export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (plainKey.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
