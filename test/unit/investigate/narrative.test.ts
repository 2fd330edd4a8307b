/**
 * The optional LLM narrative's pure parts (docs/investigations.md, "Optional LLM narrative"): the prompt carries
 * Problem.md's redacted facts and the verdicts within a bound, the answer is parsed strictly, and suggested
 * hypotheses never change a verdict — a catalogue cause counts only when its check already passed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Hypothesis } from '../../../investigate/incident';
import {
  NarrativeAnswerError,
  maxFactsChars,
  narrativeFacts,
  narrativeMarkdown,
  narrativeMessages,
  parseNarrativeAnswer,
  weighSuggestions,
} from '../../../investigate/narrative';
import { problemMarkdown, rcaMarkdown } from '../../../investigate/reports';
import { frame, line } from './frames';

function hypothesis(cause: string, verdict: Hypothesis['verdict'], evidence: string[] = []): Hypothesis {
  return {
    cause,
    rank: 1,
    description: cause,
    testPlan: '',
    dataNeeded: [],
    passRule: '',
    failRule: '',
    because: [],
    verdict,
    evidence,
  };
}

const answer = (content: string) => ({ choices: [{ message: { role: 'assistant', content } }] });

describe('LLM narrative prompt', () => {
  it("carries Problem.md's facts and every verdict, with secret-like variables hidden as in the report", () => {
    const failed = frame({
      logExcerpt: [line('error: token *** rejected')],
      lastGreen: { runId: 'run-app-0' },
      changes: [{ kind: 'variable', path: 'vars.API_TOKEN', before: '••••••', after: '••••••' }],
    });
    const facts = narrativeFacts(problemMarkdown('incident-1', failed), [
      hypothesis('script_error', 'pass', ["job 'build' step 'compile' ended with exit code 1"]),
      hypothesis('oom', 'fail'),
    ]);
    assert.match(facts, /error: token \*\*\* rejected/);
    assert.match(facts, /vars\.API_TOKEN/);
    assert.match(facts, /- script_error: pass — job 'build' step 'compile' ended with exit code 1/);
    assert.match(facts, /- oom: fail/);
    const [system, user] = narrativeMessages(facts, failed);
    assert.equal(system?.role, 'system');
    assert.match(system!.content, /JSON only/);
    assert.match(system!.content, /oom, timeout, image_not_found/);
    assert.equal(user?.content, facts);
  });

  it('is bounded however long the log lines and the timeline are, keeping the verdicts', () => {
    const huge = frame({
      logExcerpt: Array.from({ length: 30 }, () => line('x'.repeat(100_000))),
      timeline: Array.from({ length: 5000 }, (_, index) => ({ at: '2026-01-01T00:00:00Z', what: `step ${index}` })),
    });
    const facts = narrativeFacts(problemMarkdown('incident-1', huge), [hypothesis('script_error', 'pass')]);
    assert.ok(facts.length <= maxFactsChars + 20, `${facts.length} characters`);
    assert.match(facts, /- script_error: pass$/);
    assert.match(facts, /… \(cut\)/);
  });
});

describe('LLM narrative answer', () => {
  it('reads choices[0].message.content as the JSON asked for, fenced or bare', () => {
    const bare = parseNarrativeAnswer(
      answer('{"summary": "It broke.", "hypotheses": [{"cause": "dns", "description": "d"}]}'),
    );
    assert.deepEqual(bare, { summary: 'It broke.', hypotheses: [{ cause: 'dns', description: 'd' }] });
    const fenced = parseNarrativeAnswer(answer('Here it is:\n```json\n{"summary": "It broke."}\n```'));
    assert.deepEqual(fenced, { summary: 'It broke.', hypotheses: [] });
  });

  it('refuses an answer without content, with content that is not JSON, or without a summary', () => {
    assert.throws(() => parseNarrativeAnswer({ choices: [] }), /no choices\[0\]\.message\.content/);
    assert.throws(() => parseNarrativeAnswer(answer('I think it was DNS.')), NarrativeAnswerError);
    assert.throws(() => parseNarrativeAnswer(answer('{"hypotheses": []}')), /no "summary" text/);
  });

  it('drops suggested hypotheses whose cause is not a snake_case name', () => {
    const parsed = parseNarrativeAnswer(
      answer('{"summary": "s", "hypotheses": [{"cause": "Not A Name"}, {"cause": "disk_full"}, 7]}'),
    );
    assert.deepEqual(parsed.hypotheses, [{ cause: 'disk_full', description: '' }]);
  });
});

describe('suggested hypotheses', () => {
  const checked = [
    hypothesis('script_error', 'pass'),
    hypothesis('oom', 'fail'),
    hypothesis('timeout', 'inconclusive'),
  ];

  it('are untested outside the catalogue, and count for a catalogue cause only when its check passed', () => {
    const weighed = weighSuggestions(
      [
        { cause: 'stale_cache', description: 'a cache' },
        { cause: 'script_error', description: 'the script' },
        { cause: 'oom', description: 'memory' },
        { cause: 'disk_full', description: 'disk' },
      ],
      checked,
      frame(),
    );
    assert.deepEqual(
      weighed.map((suggestion) => [suggestion.cause, suggestion.status, suggestion.verdict]),
      [
        ['stale_cache', 'untested', undefined],
        ['script_error', 'confirmed', 'pass'],
        ['oom', 'not_confirmed', 'fail'],
        ['disk_full', 'not_confirmed', 'not planned'],
      ],
    );
  });

  it('are shown in RCA.md beside the verdicts they do not change; a failure is one line', () => {
    const narrative = {
      model: 'm1',
      summary: 'It broke after the change.',
      hypotheses: weighSuggestions(
        [
          { cause: 'stale_cache', description: 'a cache' },
          { cause: 'oom', description: 'memory' },
        ],
        checked,
        frame(),
      ),
    };
    const root = {
      cause: 'script_error',
      confidence: 0.5,
      summary: 's',
      remediation: 'r',
      humanChecks: [],
    };
    const rca = rcaMarkdown('incident-1', root, checked, [], [], narrative);
    assert.match(rca, /## Narrative \(LLM m1; prose only, it decides no verdict\)\n\nIt broke after the change\./);
    assert.match(rca, /- stale_cache — suggested, untested: a cache/);
    assert.match(rca, /- oom — a catalogue cause its check did not confirm \(fail\): ignored: memory/);
    assert.match(rca, /\*\*script_error\*\* \(confidence 0\.50\)/);
    assert.deepEqual(narrativeMarkdown({ hypotheses: [], note: 'http://x/v1/chat/completions answered 500' }), [
      '_No LLM narrative: http://x/v1/chat/completions answered 500._',
      '',
    ]);
    assert.doesNotMatch(rcaMarkdown('incident-1', root, checked, []), /LLM/);
  });
});
