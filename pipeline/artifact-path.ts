/**
 * Checks that an artifact path or glob stays inside the job's workspace: relative, no `..` segment, no
 * backslashes or NUL. Returns `undefined` when safe, else the reason.
 */
export function checkWorkspacePath(path: string): string | undefined {
  if (path.trim() === '') return 'the path is empty';
  if (path.includes('\0')) return 'the path contains a NUL character';
  if (path.includes('\\')) return `'${path}' contains a backslash; use forward slashes`;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.startsWith('~')) {
    return `'${path}' is absolute; artifact paths are relative to the workspace`;
  }
  if (path.split('/').includes('..')) return `'${path}' leaves the workspace through '..'`;
  return undefined;
}

/**
 * Checks a step's working directory: an absolute container path without `..`, or a path relative to
 * `/workspace`. Returns the normalised absolute path, or the reason it is unsafe.
 */
export function normaliseWorkingDirectory(path: string): { path: string } | { problem: string } {
  if (path.trim() === '') return { problem: 'the working directory is empty' };
  if (path.includes('\0')) return { problem: 'the working directory contains a NUL character' };
  const segments = path.split('/');
  if (segments.includes('..')) return { problem: `'${path}' contains '..'; write the directory it means directly` };
  const absolute = path.startsWith('/') ? path : `/workspace/${path}`;
  const normalised = `/${absolute
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/')}`;
  return { path: normalised };
}
