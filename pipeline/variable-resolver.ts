import { didYouMean, listNames } from './did-you-mean';
import type { DiagnosticCode } from './diagnostic-codes';
import {
  escapeTemplateText,
  hasReferences,
  parseTemplate,
  type TemplateSegment,
  type VariableReference,
} from './variable-template';

/** One source of variables; layers are searched in order, so the first has the highest precedence. */
export interface VariableLayer {
  /** Where the values come from, for messages. */
  source: 'runtime' | 'step' | 'job' | 'global' | 'system';
  values: Readonly<Record<string, string>>;
  /** Literal values are plain text; others are templates that may reference further variables. */
  literal: boolean;
}

/** The outcome of evaluating a `${{ }}` inside a field. */
export type ExpressionOutcome =
  | {
      ok: true;
      text: string;
      /** The text is a template (e.g. `${secrets.X}`), not literal text. */ template?: boolean;
    }
  | { ok: false; code: DiagnosticCode; message: string; hint: string };

/** How to resolve. */
export interface ResolveOptions {
  /** Variable sources, highest precedence first. */
  layers: readonly VariableLayer[];
  /** Names known only when the run starts (e.g. CONVEYOR_RUN_ID): kept as references when no layer has them. */
  deferred?: { has(name: string): boolean };
  /** Matrix values for `${matrix.x}`. */
  matrix?: Readonly<Record<string, string | number | boolean>>;
  /** Evaluates a `${{ }}`; when absent, expressions are kept as written. */
  evaluate?: (source: string) => ExpressionOutcome;
  /** `keep` leaves `${secrets.X}` symbolic (parse time); a map resolves them (inside the container only). */
  secrets?: 'keep' | Readonly<Record<string, string>>;
  /**
   * Final output (run time): escapes become a literal `${` and the result is plain text. Otherwise the output is
   * still a template: `$${` escapes and deferred references are kept for the run to finish.
   */
  final?: boolean;
}

/** A problem found while resolving, with the reference as written (to point at its column). */
export interface ResolveProblem {
  code: DiagnosticCode;
  message: string;
  hint: string;
  /** The reference as written, e.g. `${WORKSPAC}`. */
  raw: string;
}

const maxResolutionDepth = 32;
/** What `layerValue` returns for a layer without the variable. */
const absent = Symbol('absent');

type ParsedTemplate = Readonly<ReturnType<typeof parseTemplate>>;
/**
 * Parsed templates by text. The same strings recur in every step and job of a pipeline (an image such as
 * `${REGISTRY}/builder:${VERSION}`, a script line), and every scope resolves them afresh; parsing is a pure
 * function of the text, so sharing the (never modified) result changes nothing but the time.
 */
const parsedTemplates = new Map<string, ParsedTemplate>();
const maxCachedTemplates = 10_000;
const maxCachedTemplateLength = 2_000;

function parseTemplateOnce(text: string): ParsedTemplate {
  const cached = parsedTemplates.get(text);
  if (cached) return cached;
  const parsed = parseTemplate(text);
  if (text.length <= maxCachedTemplateLength) {
    if (parsedTemplates.size >= maxCachedTemplates) parsedTemplates.clear();
    parsedTemplates.set(text, parsed);
  }
  return parsed;
}

/**
 * Resolves variables in string fields for one scope (a step, a job or the pipeline). Caches each variable's
 * resolved value, so resolving many fields in one scope costs each definition once.
 */
export class VariableResolver {
  private readonly resolved = new Map<string, { text: string; ok: boolean }>();
  private readonly stack: string[] = [];
  private readonly options: ResolveOptions;

  constructor(options: ResolveOptions) {
    this.options = options;
  }

  /**
   * Resolves one string field. `definition` names the variable whose value this is (for an environment entry):
   * a reference to itself then reads the next layer down, as `PATH: "${PATH}:/opt/bin"` expects.
   */
  resolve(text: string, definition?: { name: string; layer: number }): { text: string; problems: ResolveProblem[] } {
    if (!hasReferences(text)) return { text: this.literal(text), problems: [] };
    const problems: ResolveProblem[] = [];
    const { segments, errors } = parseTemplateOnce(text);
    for (const error of errors) {
      problems.push({
        code: 'variable_syntax',
        message: error.message,
        hint: 'write ${NAME}, ${NAME:-default}, ${NAME:+alternate} or ${NAME/pattern/replacement}; $${NAME} is a literal ${NAME}',
        raw: error.raw,
      });
    }
    const key = definition ? `${definition.name}@${definition.layer}` : undefined;
    if (key) this.stack.push(key);
    try {
      const output = this.emit(segments, problems, definition);
      // At a use site (not a definition), a cycle has already been reported where the variables are defined.
      const reported =
        definition || this.stack.length > 0
          ? problems
          : problems.filter((problem) => problem.code !== 'variable_cycle');
      return { text: output, problems: reported };
    } finally {
      if (key) this.stack.pop();
    }
  }

  /** Every variable name visible in this scope, sorted (for messages). */
  availableNames(): string[] {
    const names = new Set<string>();
    for (const layer of this.options.layers) for (const name of Object.keys(layer.values)) names.add(name);
    return [...names].sort();
  }

  private literal(text: string): string {
    return this.options.final ? text : escapeTemplateText(text);
  }

  private emit(
    segments: readonly TemplateSegment[],
    problems: ResolveProblem[],
    definition: { name: string; layer: number } | undefined,
  ): string {
    let output = '';
    for (const segment of segments) {
      switch (segment.kind) {
        case 'text':
          output += this.literal(segment.text);
          break;
        case 'escape':
          output += this.options.final ? '${' : '$${';
          break;
        case 'expression': {
          if (!this.options.evaluate) {
            output += segment.raw;
            break;
          }
          const outcome = this.options.evaluate(segment.source);
          if (outcome.ok) output += outcome.template ? outcome.text : this.literal(outcome.text);
          else {
            problems.push({ code: outcome.code, message: outcome.message, hint: outcome.hint, raw: segment.raw });
            output += segment.raw;
          }
          break;
        }
        case 'variable':
          output += this.reference(segment, problems, definition);
          break;
      }
    }
    return output;
  }

  private reference(
    reference: VariableReference,
    problems: ResolveProblem[],
    definition: { name: string; layer: number } | undefined,
  ): string {
    const value = this.lookup(reference, problems, definition);
    if (value === 'deferred') return this.deferredReference(reference, problems, definition);
    if (value === 'failed') return reference.raw;
    switch (reference.operator) {
      case undefined:
        if (value === undefined) {
          problems.push(this.undefinedProblem(reference));
          return reference.raw;
        }
        return value;
      case ':-':
        return value === undefined || value === '' ? this.emit(reference.argument ?? [], problems, definition) : value;
      case ':+':
        return value === undefined || value === '' ? '' : this.emit(reference.argument ?? [], problems, definition);
      case '/':
      case '//': {
        if (value === undefined) {
          problems.push(this.undefinedProblem(reference));
          return reference.raw;
        }
        const pattern = this.literal(reference.pattern ?? '');
        const replacement = this.emit(reference.argument ?? [], problems, definition);
        return reference.operator === '//'
          ? value.split(pattern).join(replacement)
          : value.replace(pattern, () => replacement);
      }
    }
  }

  /** The value (as output text), `undefined` if unset, or a marker for deferred and failed references. */
  private lookup(
    reference: VariableReference,
    problems: ResolveProblem[],
    definition: { name: string; layer: number } | undefined,
  ): string | undefined | 'deferred' | 'failed' {
    const { name } = reference;
    if (name.startsWith('secrets.')) {
      const secrets = this.options.secrets ?? 'keep';
      if (secrets === 'keep') return 'deferred';
      const secret = Object.prototype.hasOwnProperty.call(secrets, name.slice(8)) ? secrets[name.slice(8)] : undefined;
      return secret === undefined ? undefined : this.literal(secret);
    }
    if (name.startsWith('matrix.')) {
      const matrix = this.options.matrix;
      const axis = name.slice(7);
      if (!matrix || !Object.prototype.hasOwnProperty.call(matrix, axis)) return undefined;
      return this.literal(String(matrix[axis]));
    }
    const plainName = name.startsWith('vars.') ? name.slice(5) : name;
    const layers = this.options.layers;
    // Definitions are scoped lexically: a value defined in a layer sees the runtime variables, its own layer and
    // the layers below it — and, for its own name, only the layers below (`PATH: ${PATH}:/x`).
    const start = definition ? definition.layer + (definition.name === plainName ? 1 : 0) : 0;
    // The runtime layer (0) first, then `start` and the layers below it.
    if (start > 0) {
      const value = this.layerValue(0, plainName, problems, reference);
      if (value !== absent) return value;
    }
    for (let index = start; index < layers.length; index++) {
      const value = this.layerValue(index, plainName, problems, reference);
      if (value !== absent) return value;
    }
    if (this.options.deferred?.has(plainName) && !this.options.final) return 'deferred';
    return undefined;
  }

  /** The value of `name` from one layer, or `absent` when the layer does not define it (for this reference). */
  private layerValue(
    index: number,
    name: string,
    problems: ResolveProblem[],
    reference: VariableReference,
  ): string | 'failed' | typeof absent {
    const layer = this.options.layers[index];
    if (!layer || !Object.prototype.hasOwnProperty.call(layer.values, name)) return absent;
    if (reference.name.startsWith('vars.') && layer.source !== 'runtime') return absent;
    const raw = layer.values[name] ?? '';
    if (layer.literal) return this.literal(raw);
    return this.definitionValue(name, index, raw, problems, reference);
  }

  private definitionValue(
    name: string,
    layer: number,
    raw: string,
    problems: ResolveProblem[],
    reference: VariableReference,
  ): string | 'failed' {
    const key = `${name}@${layer}`;
    const cached = this.resolved.get(key);
    if (cached) return cached.ok ? cached.text : 'failed';
    if (this.stack.includes(key)) {
      const names = [...this.stack.slice(this.stack.indexOf(key)), key].map((entry) =>
        entry.slice(0, entry.lastIndexOf('@')),
      );
      problems.push({
        code: 'variable_cycle',
        message: `circular variable reference: ${names.join(' → ')}`,
        hint: `break the cycle: one of ${listNames([...new Set(names)])} must not refer back to the others`,
        raw: reference.raw,
      });
      return 'failed';
    }
    if (this.stack.length >= maxResolutionDepth) {
      problems.push({
        code: 'variable_cycle',
        message: `variable references nest more than ${maxResolutionDepth} levels deep at '${name}'`,
        hint: 'flatten the chain of variables that refer to each other',
        raw: reference.raw,
      });
      return 'failed';
    }
    // Problems inside the definition are reported where it is defined; only a cycle travels up, so that the
    // definition that closes it can report the whole chain.
    const inner = this.resolve(raw, { name, layer });
    const cycle = inner.problems.find((problem) => problem.code === 'variable_cycle');
    if (cycle) problems.push({ ...cycle, raw: reference.raw });
    const ok = inner.problems.length === 0;
    this.resolved.set(key, { text: inner.text, ok });
    return ok ? inner.text : 'failed';
  }

  private deferredReference(
    reference: VariableReference,
    problems: ResolveProblem[],
    definition: { name: string; layer: number } | undefined,
  ): string {
    if (!reference.operator) return reference.raw;
    const argument = this.emit(reference.argument ?? [], problems, definition);
    if (reference.operator === ':-' || reference.operator === ':+')
      return `\${${reference.name}${reference.operator}${argument}}`;
    const pattern = (reference.pattern ?? '').replace(/\//g, '\\/');
    return `\${${reference.name}${reference.operator}${pattern}/${argument}}`;
  }

  private undefinedProblem(reference: VariableReference): ResolveProblem {
    const { name } = reference;
    if (name.startsWith('secrets.')) {
      return {
        code: 'undefined_variable',
        message: `secret '${name.slice(8)}' is not set`,
        hint: 'configure the secret for the run',
        raw: reference.raw,
      };
    }
    if (name.startsWith('matrix.')) {
      const axes = Object.keys(this.options.matrix ?? {});
      return {
        code: 'undefined_variable',
        message:
          axes.length === 0
            ? `'${reference.raw}' refers to a matrix value but the job has no matrix`
            : `the job's matrix has no '${name.slice(7)}'${didYouMean(name.slice(7), axes)}`,
        hint:
          axes.length === 0 ? 'add a matrix: to the job, or remove the reference' : `matrix values: ${listNames(axes)}`,
        raw: reference.raw,
      };
    }
    const plainName = name.startsWith('vars.') ? name.slice(5) : name;
    const available = this.availableNames();
    return {
      code: 'undefined_variable',
      message: `undefined variable '${plainName}'${didYouMean(plainName, available)}`,
      hint:
        `define it in global_env or an environment, pass --var ${plainName}=…, or give a default: \${${plainName}:-value}; ` +
        `$\${${plainName}} passes it to the shell unchanged. Available: ${listNames(available, 20)}`,
      raw: reference.raw,
    };
  }
}
