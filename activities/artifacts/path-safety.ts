/**
 * Safe extraction (docs/artifacts.md, ART-085): before any byte of an archive reaches a workspace, every entry is
 * checked here. Refused: absolute paths, `..`, NUL bytes, links whose target leaves the workspace, entries written
 * through a symlink of the same archive, hard links to anything but an earlier file, duplicates, devices, fifos and
 * other special files, and setuid/setgid bits. Each entry is checked as it comes; `finish()`, once the last has been,
 * resolves every symlink through the archive's other symlinks (a chain like `a/l -> ..` then `b -> a/l/..` leaves
 * the workspace although each target reads as inside). Pure: a table of hostile headers is its test.
 */
import { posix } from 'node:path';
import { isAncestor } from './archive-entry';

/** The header fields the checks look at (tar-stream's names). */
export interface EntryHeader {
  name: string;
  type?: string | null;
  mode?: number;
  linkname?: string | null;
}

/** An entry that passed: its normalised path and kind. */
export interface SafeEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'link';
  /** For links: the normalised workspace-relative target (hard links) or the target as written (symlinks). */
  linkname?: string;
}

/** What the checks remember across the entries of one archive. */
export class ExtractionGuard {
  private readonly seen = new Set<string>();
  private readonly files = new Set<string>();
  private readonly symlinks: string[] = [];
  private readonly targets = new Map<string, string>();

  /**
   * Checks the next entry: returns it normalised, `undefined` for metadata-only entries (pax global headers),
   * or throws `UnsafeEntryError` naming the entry and the problem.
   */
  check(header: EntryHeader): SafeEntry | undefined {
    const type = header.type ?? 'file';
    if (type === 'pax-global-header') return undefined;
    const name = header.name;
    const refuse = (problem: string): never => {
      throw new UnsafeEntryError(name, problem);
    };
    if (name.includes('\0')) refuse('contains a NUL byte');
    if (name.startsWith('/')) refuse('is an absolute path');
    const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
    if (segments.includes('..')) refuse("leaves the workspace through '..'");
    const path = segments.join('/');
    if (path === '') {
      if (type === 'directory') return undefined; // the archive's root directory itself
      refuse('has an empty name');
    }
    if (!isExtractable(type)) {
      return refuse(`is a ${type.replace(/-/g, ' ')} (only files, directories and links are allowed)`);
    }
    if ((header.mode ?? 0) & 0o6000) refuse('has the setuid or setgid bit');
    if (this.seen.has(path)) refuse('appears twice in the archive');
    const through = this.symlinks.find((link) => isAncestor(link, path));
    if (through !== undefined) refuse(`would be written through the symlink '${through}'`);
    this.seen.add(path);

    if (type === 'symlink') {
      const target = header.linkname ?? '';
      if (target === '') refuse('is a symlink without a target');
      if (target.includes('\0')) refuse('is a symlink whose target contains a NUL byte');
      if (target.startsWith('/')) refuse(`is a symlink to the absolute path '${target}'`);
      const resolved = posix.normalize(posix.join(posix.dirname(path), target));
      if (resolved === '..' || resolved.startsWith('../')) refuse(`is a symlink to '${target}', outside the workspace`);
      this.symlinks.push(path);
      this.targets.set(path, target);
      return { path, type, linkname: target };
    }
    if (type === 'link') {
      const target = (header.linkname ?? '')
        .split('/')
        .filter((segment) => segment !== '' && segment !== '.')
        .join('/');
      if (!this.files.has(target))
        refuse(`is a hard link to '${header.linkname}', which is not an earlier file of the archive`);
      this.files.add(path);
      return { path, type, linkname: target };
    }
    if (type === 'file') this.files.add(path);
    return { path, type };
  }

  /** After the last entry: throws `UnsafeEntryError` for a symlink that leaves the workspace through others. */
  finish(): void {
    for (const [path, target] of this.targets) {
      const from = posix.dirname(path);
      const end = resolve(from === '.' ? [] : from.split('/'), target, this.targets);
      if (end === 'outside') {
        throw new UnsafeEntryError(path, `is a symlink to '${target}', outside the workspace through other symlinks`);
      }
      if (end === 'loop') throw new UnsafeEntryError(path, `is a symlink to '${target}' in a loop of symlinks`);
    }
  }
}

/** Links followed before a chain counts as a loop (Linux's own limit). */
const maxLinksFollowed = 40;

/**
 * Follows `target` from the directory `at` as the kernel would, through the archive's symlinks (`links`: path →
 * target): whether it stays inside the workspace, leaves it, or loops.
 */
function resolve(at: string[], target: string, links: ReadonlyMap<string, string>): 'inside' | 'outside' | 'loop' {
  const place = [...at];
  const pending = target.split('/');
  let followed = 0;
  while (pending.length > 0) {
    const component = pending.shift() as string;
    if (component === '' || component === '.') continue;
    if (component === '..') {
      if (place.pop() === undefined) return 'outside';
      continue;
    }
    place.push(component);
    const link = links.get(place.join('/'));
    if (link === undefined) continue;
    followed += 1;
    if (followed > maxLinksFollowed) return 'loop';
    place.pop();
    pending.unshift(...link.split('/'));
  }
  return 'inside';
}

function isExtractable(type: string): type is SafeEntry['type'] {
  return type === 'file' || type === 'directory' || type === 'symlink' || type === 'link';
}

/** An archive entry that must not be extracted. */
export class UnsafeEntryError extends Error {
  constructor(
    readonly entry: string,
    readonly problem: string,
  ) {
    super(`'${entry}' ${problem}`);
    this.name = 'UnsafeEntryError';
  }
}
