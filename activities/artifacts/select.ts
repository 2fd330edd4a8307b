/**
 * Which workspace files an artifact's paths select (docs/artifacts.md): each pattern is relative to `/workspace`;
 * a pattern naming a directory takes everything under it; `**`, `*`, `?` and brace sets (`{a,b}`) work as in
 * picomatch, dotfiles included. Directories leading to a selected file are packed too (so permissions and empty
 * directories survive); a pattern that selects nothing is reported by name.
 */
import picomatch from 'picomatch';
import { checkWorkspacePath } from '../../pipeline/artifact-path';
import { comparePaths, discardEntry, isAncestor, normaliseEntryPath, type SourceEntry } from './archive-entry';

/** One artifact path pattern, normalised, with its matcher. */
interface CompiledPattern {
  /** As written in the pipeline. */
  source: string;
  /** Normalised: no `./`, no trailing `/`; `''` selects the whole workspace. */
  normalised: string;
  matches: (path: string) => boolean;
}

/** An artifact path that is not safe to use (absolute, `..`, …). */
export class UnsafePatternError extends Error {
  constructor(
    readonly pattern: string,
    problem: string,
  ) {
    super(problem);
    this.name = 'UnsafePatternError';
  }
}

/** Selects the entries of one artifact from a stream of workspace entries in canonical order. */
export class ArtifactSelector {
  private readonly patterns: CompiledPattern[];
  private readonly hits = new Set<string>();

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map((source) => {
      const problem = source.trim() === '.' ? undefined : checkWorkspacePath(source);
      if (problem) throw new UnsafePatternError(source, problem);
      const normalised = normaliseEntryPath(source.trim());
      const matcher = normalised === '' ? () => true : picomatch(normalised, { dot: true });
      return { source, normalised, matches: (path: string) => matcher(path) };
    });
  }

  /**
   * The workspace paths worth reading: the static prefix of each pattern (`build` for `build/**\/*.jar`, the
   * pattern itself when it has no glob), without those inside another, in canonical order; `''` is the whole
   * workspace.
   */
  bases(): string[] {
    const bases = this.patterns.map(({ normalised }) => {
      if (normalised === '') return '';
      const scan = picomatch.scan(normalised);
      return scan.isGlob ? normaliseEntryPath(scan.base) : normalised;
    });
    const unique = [...new Set(bases)].sort(comparePaths);
    return unique.filter(
      (base) => !unique.some((other) => other !== base && (other === '' || isAncestor(other, base))),
    );
  }

  /**
   * Yields the selected entries of `entries` (canonical order in, canonical order out), draining the content of
   * everything it skips. Directories are held back until something under them is selected, or they match.
   */
  async *select(entries: AsyncIterable<SourceEntry>): AsyncIterable<SourceEntry> {
    // Directories selected wholesale (a pattern matched them), innermost last.
    const whole: string[] = [];
    // Directories seen but not yet emitted, outermost first: emitted when something under them is.
    const pending: SourceEntry[] = [];
    for await (const entry of entries) {
      while (whole.length > 0 && !isAncestor(whole[whole.length - 1]!, entry.path)) whole.pop();
      while (pending.length > 0 && !isAncestor(pending[pending.length - 1]!.path, entry.path)) pending.pop();
      let matched = false;
      for (const pattern of this.patterns) {
        if (pattern.matches(entry.path)) {
          this.hits.add(pattern.source);
          matched = true;
        }
      }
      const selected = matched || whole.length > 0;
      if (matched && entry.type === 'directory') whole.push(entry.path);
      if (!selected) {
        if (entry.type === 'directory') pending.push(entry);
        else discardEntry(entry);
        continue;
      }
      yield* pending.splice(0);
      yield entry;
    }
  }

  /** Patterns that have selected nothing so far (after `select` has run: those that selected nothing at all). */
  unmatched(): string[] {
    return this.patterns.filter((pattern) => !this.hits.has(pattern.source)).map((pattern) => pattern.source);
  }
}
