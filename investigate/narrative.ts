/**
 * The optional LLM narrative (docs/investigations.md, "Optional LLM narrative"): the prompt sent to an
 * OpenAI-compatible endpoint, the parsing of its answer, and how the hypotheses it suggests are weighed. Pure.
 *
 * The model never decides anything: its summary is shown as prose beside the report, a hypothesis outside the
 * catalogue is listed as "suggested, untested", and one naming a catalogue cause changes nothing — it is only
 * marked as confirmed when that cause's deterministic check already passed.
 */
import { catalogueFor } from './catalogue';
import type { FailureFrame, Hypothesis } from './incident';

/** The most characters of facts (Problem.md and the verdicts) a prompt carries; the rest is cut. */
export const maxFactsChars = 12_000;
/** The longest line of facts kept whole; longer lines (a minified bundle in the log) are cut. */
const maxLineChars = 400;
/** At most this many suggested hypotheses are kept, each description at most `maxDescriptionChars`. */
const maxSuggestions = 5;
const maxDescriptionChars = 500;
/** The longest summary kept. */
const maxSummaryChars = 4_000;

/** One chat message of the OpenAI chat-completions protocol. */
export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

/** A hypothesis the model suggested, and what Conveyor made of it. */
export interface SuggestedHypothesis {
  cause: string;
  description: string;
  /**
   * `untested`: outside the catalogue, no check exists (listed as "suggested, untested"); `confirmed`: a catalogue
   * cause whose check already passed; `not_confirmed`: a catalogue cause whose check did not pass — ignored.
   */
  status: 'untested' | 'confirmed' | 'not_confirmed';
  /** For catalogue causes: the deterministic verdict of its check (`not planned` when it had none). */
  verdict?: string;
}

/** What an incident shows of the LLM: the narrative, or a one-line note why there is none. */
export interface IncidentNarrative {
  /** The model that wrote it (as configured). */
  model?: string;
  summary?: string;
  hypotheses: SuggestedHypothesis[];
  /** Set instead of `summary` when the endpoint failed: why, in one line. */
  note?: string;
}

/** The model's answer as asked for, before it is weighed. */
export interface NarrativeAnswer {
  summary: string;
  hypotheses: { cause: string; description: string }[];
}

/** The answer could not be used: the reason, in words (the note on the report). */
export class NarrativeAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NarrativeAnswerError';
  }
}

/** Cuts `text` to `max` characters, saying so. */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (cut)`;
}

/**
 * The facts of an incident as the prompt carries them: its `Problem.md` (`problem`) — the same rendering, and so the same
 * redaction, as the stored report (masked log lines, secret-like variables hidden; investigate/reports.ts) — and
 * each hypothesis' deterministic verdict with its first piece of evidence, bounded to `maxFactsChars`.
 */
export function narrativeFacts(problem: string, hypotheses: readonly Hypothesis[]): string {
  const lines = problem.split('\n').map((line) => cut(line, maxLineChars));
  const verdicts = [
    '## Verdicts of the deterministic checks',
    '',
    ...hypotheses.map(
      (hypothesis) =>
        `- ${hypothesis.cause}: ${hypothesis.verdict}${hypothesis.evidence[0] ? ` — ${cut(hypothesis.evidence[0], maxLineChars)}` : ''}`,
    ),
  ].join('\n');
  // The verdicts are kept whole; Problem.md gives way (its timeline comes last and is cut first).
  const room = Math.max(0, maxFactsChars - verdicts.length - 2);
  return `${cut(lines.join('\n'), room)}\n\n${verdicts}`;
}

/** The two messages sent: what to write and in which shape, then the facts. */
export function narrativeMessages(facts: string, frame: FailureFrame): ChatMessage[] {
  const causes = catalogueFor(frame).map((module) => module.cause);
  return [
    {
      role: 'system',
      content: [
        'You help an on-call engineer understand a CI/CD failure. Deterministic checks have already decided the',
        'verdicts below; do not contradict them. Write a short narrative (at most 5 sentences) of what most likely',
        'happened and what to look at first, and list up to 3 further hypotheses worth checking.',
        `Use one of these cause names when a hypothesis is one of them: ${causes.join(', ')}; otherwise a new`,
        'snake_case name.',
        'Answer with JSON only: {"summary": "...", "hypotheses": [{"cause": "...", "description": "..."}]}',
      ].join(' '),
    },
    { role: 'user', content: facts },
  ];
}

/** The JSON object inside `content`: a fenced ```json block, else from its first `{` to its last `}`. */
function jsonIn(content: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(content)?.[1];
  const braced = content.slice(content.indexOf('{'), content.lastIndexOf('}') + 1);
  const text = (fenced ?? (braced || content)).trim();
  try {
    return JSON.parse(text);
  } catch {
    throw new NarrativeAnswerError(`the answer's content is not the JSON object asked for: ${cut(text, 80)}`);
  }
}

/**
 * The usable part of a chat-completions response body (`choices[0].message.content`, itself the JSON asked for);
 * throws `NarrativeAnswerError` saying what is wrong with it.
 */
export function parseNarrativeAnswer(body: unknown): NarrativeAnswer {
  const content = (body as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new NarrativeAnswerError('the response has no choices[0].message.content');
  const answer = jsonIn(content) as { summary?: unknown; hypotheses?: unknown } | null;
  if (typeof answer?.summary !== 'string' || answer.summary.trim() === '') {
    throw new NarrativeAnswerError('the answer has no "summary" text');
  }
  const listed = Array.isArray(answer.hypotheses) ? (answer.hypotheses as unknown[]) : [];
  const hypotheses = listed
    .flatMap((item) => {
      const { cause, description } = (item ?? {}) as { cause?: unknown; description?: unknown };
      if (typeof cause !== 'string' || !/^[a-z][a-z0-9_]{0,63}$/.test(cause.trim())) return [];
      return [
        {
          cause: cause.trim(),
          description: cut(typeof description === 'string' ? description : '', maxDescriptionChars),
        },
      ];
    })
    .slice(0, maxSuggestions);
  return { summary: cut(answer.summary.trim(), maxSummaryChars), hypotheses };
}

/**
 * What each suggested hypothesis counts for: a catalogue cause is `confirmed` only when its check already passed,
 * else `not_confirmed` (and ignored); anything else is `untested`. Never changes a verdict or the ranking.
 */
export function weighSuggestions(
  suggested: NarrativeAnswer['hypotheses'],
  hypotheses: readonly Hypothesis[],
  frame: FailureFrame,
): SuggestedHypothesis[] {
  const catalogue = new Set(catalogueFor(frame).map((module) => module.cause));
  return suggested.map(({ cause, description }) => {
    if (!catalogue.has(cause)) return { cause, description, status: 'untested' as const };
    const verdict = hypotheses.find((hypothesis) => hypothesis.cause === cause)?.verdict ?? 'not planned';
    return {
      cause,
      description,
      status: verdict === 'pass' ? ('confirmed' as const) : ('not_confirmed' as const),
      verdict,
    };
  });
}

/** How RCA.md shows a suggested hypothesis' standing. */
function describeSuggestion(suggestion: SuggestedHypothesis): string {
  if (suggestion.status === 'untested') return 'suggested, untested';
  if (suggestion.status === 'confirmed') return 'a catalogue cause its check confirmed';
  return `a catalogue cause its check did not confirm (${suggestion.verdict}): ignored`;
}

/** RCA.md's section for the narrative, or its one-line note when the endpoint failed. */
export function narrativeMarkdown(narrative: IncidentNarrative): string[] {
  if (narrative.summary === undefined) return [`_No LLM narrative: ${narrative.note ?? 'no answer'}._`, ''];
  const lines = [
    `## Narrative (LLM${narrative.model ? ` ${narrative.model}` : ''}; prose only, it decides no verdict)`,
    '',
    narrative.summary,
    '',
  ];
  if (narrative.hypotheses.length > 0) {
    lines.push('### Hypotheses the LLM suggested', '');
    for (const suggestion of narrative.hypotheses) {
      const description = suggestion.description ? `: ${suggestion.description}` : '';
      lines.push(`- ${suggestion.cause} — ${describeSuggestion(suggestion)}${description}`);
    }
    lines.push('');
  }
  return lines;
}
