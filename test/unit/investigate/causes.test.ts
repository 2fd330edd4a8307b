import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Probes } from '../../../investigate/cause';
import { causeNamed, runCauses, runLogPatterns } from '../../../investigate/catalogue';
import { conclude, rankByVerdict } from '../../../investigate/conclusion';
import { hypothesise } from '../../../investigate/hypothesise';
import { LogScanner, matchesFor } from '../../../investigate/log-scan';
import type { FailureFrame, Hypothesis, QuotedLine } from '../../../investigate/incident';
import { frame, line } from './frames';

/** Runs the whole catalogue's rules the way the check activity does, with `output` as the failing step's log. */
function investigate(subject: FailureFrame, output: QuotedLine[] = [], image?: Probes['image']) {
  // One scan for every check, as the frame activity makes it (investigate/log-scan.ts).
  const scanner = new LogScanner({ job: subject.job ?? 'build', step: subject.step }, runLogPatterns);
  for (const record of output) scanner.add(record);
  const scan = scanner.finish();
  const hypotheses: Hypothesis[] = runCauses.map((module, index) => {
    const probes: Probes = {
      logMatches: module.logPatterns ? matchesFor(scan, module.logPatterns) : [],
      linesSearched: scan.linesSearched,
      image,
    };
    const outcome = module.decide(subject, probes);
    return {
      cause: module.cause,
      rank: index + 1,
      description: '',
      testPlan: '',
      dataNeeded: [],
      passRule: '',
      failRule: '',
      because: [],
      ...outcome,
    };
  });
  const ranked = rankByVerdict(hypotheses, []);
  return { ranked, root: conclude(subject, ranked) };
}

const green = { runId: 'run-app-0' };

describe('the cause catalogue', () => {
  it('has a description, test plan, data, explicit rules and remediation for every cause', () => {
    for (const module of runCauses) {
      for (const text of [module.description, module.testPlan, module.passRule, module.failRule, module.remediation]) {
        assert.ok(text.length > 10, `${module.cause}: ${text}`);
      }
      assert.ok(module.dataNeeded.length > 0, module.cause);
      for (const pattern of module.logPatterns ?? []) assert.doesNotThrow(() => new RegExp(pattern, 'i'));
    }
    assert.throws(() => causeNamed('gremlins'), /unknown cause 'gremlins' \(known: oom, timeout/);
  });

  const scenarios: {
    name: string;
    subject: FailureFrame;
    output?: QuotedLine[];
    image?: Probes['image'];
    cause: string;
    fact: RegExp;
  }[] = [
    {
      name: 'an OOM kill',
      subject: frame({ exitCode: 137, reason: 'oom_killed', memoryBytes: 64 * 1048576 }),
      cause: 'oom',
      fact: /exit code 137 \(oom_killed\)/,
    },
    {
      name: 'a step timeout',
      subject: frame({ exitCode: 143, reason: 'timed_out', timeoutSeconds: 5 }),
      cause: 'timeout',
      fact: /timed_out\) \(step timeout 5 s\)/,
    },
    {
      name: 'a missing image',
      subject: frame({ exitCode: undefined, reason: 'image_not_found', message: "image 'nope:1' not found" }),
      image: { name: 'nope:1', present: false },
      cause: 'image_not_found',
      fact: /image 'nope:1' is not on the Docker host/,
    },
    {
      name: 'a command not found',
      subject: frame({ exitCode: 127, reason: 'command_not_found' }),
      output: [line('sh: 1: mkae: not found')],
      cause: 'command_not_found',
      fact: /exit code 127/,
    },
    {
      name: 'a permission error',
      subject: frame(),
      output: [line("touch: cannot touch '/etc/x': Permission denied")],
      cause: 'permission_denied',
      fact: /Permission denied/,
    },
    {
      name: 'an unreachable network',
      subject: frame({ network: 'none' }),
      output: [line('wget: bad address'), line('curl: (6) Could not resolve host: example.com')],
      cause: 'network_unreachable',
      fact: /Could not resolve host/,
    },
    {
      name: 'a full disk',
      subject: frame(),
      output: [line('write error: No space left on device')],
      cause: 'disk_full',
      fact: /No space left/,
    },
    {
      name: 'a workspace written past its resources.disk',
      subject: frame({ exitCode: 1, reason: 'disk_full' }),
      cause: 'disk_full',
      fact: /\(disk_full\)/,
    },
    {
      name: 'a corrupted artifact',
      subject: frame({ exitCode: undefined, reason: 'artifact_corrupted' }),
      cause: 'artifact_corrupted',
      fact: /artifact_corrupted/,
    },
    {
      name: 'a missing artifact',
      subject: frame({ exitCode: undefined, reason: 'artifact_missing' }),
      cause: 'artifact_missing',
      fact: /artifact_missing/,
    },
    {
      name: 'a definition change in the failing step',
      subject: frame({
        lastGreen: green,
        changes: [
          {
            kind: 'definition',
            path: 'jobs.build.steps[0].script',
            job: 'build',
            step: 'compile',
            before: 'true',
            after: 'exit 1',
            reachesFailure: true,
          },
        ],
      }),
      cause: 'config_changed',
      fact: /jobs\.build\.steps\[0\]\.script: "true" → "exit 1"/,
    },
    {
      name: 'a changed input artifact',
      subject: frame({
        lastGreen: green,
        inputs: [{ job: 'gen', name: 'data', digest: 'b'.repeat(64) }],
        changes: [
          {
            kind: 'input_artifact',
            path: 'inputs.gen/data',
            job: 'gen',
            before: 'a'.repeat(64),
            after: 'b'.repeat(64),
          },
        ],
      }),
      cause: 'upstream_changed',
      fact: /inputs\.gen\/data/,
    },
    {
      name: 'a failure with nothing changed',
      subject: frame({ lastGreen: green }),
      cause: 'flaky',
      fact: /green run run-app-0 passed with the same definition/,
    },
    {
      name: 'a Docker failure',
      subject: frame({
        exitCode: undefined,
        reason: 'infrastructure',
        message: 'connect ECONNREFUSED /var/run/docker.sock',
      }),
      cause: 'infrastructure',
      fact: /docker\.sock/,
    },
    {
      name: 'failing tests',
      subject: frame(),
      output: [line('Tests: 2 failed, 10 passed', 'stdout')],
      cause: 'test_failure',
      fact: /2 failed/,
    },
    {
      name: 'a plain non-zero exit',
      subject: frame(),
      output: [line('oops')],
      cause: 'script_error',
      fact: /exit code 1 \(exit_code\)/,
    },
  ];
  for (const scenario of scenarios) {
    it(`ranks ${scenario.cause} first for ${scenario.name}, quoting the decisive fact`, () => {
      const subject = { ...scenario.subject, logExcerpt: scenario.output ?? [] };
      const { ranked, root } = investigate(subject, scenario.output, scenario.image);
      assert.equal(ranked[0]?.cause, scenario.cause, JSON.stringify(ranked.slice(0, 3)));
      assert.equal(root.cause, scenario.cause);
      assert.match(ranked[0]!.evidence.join('\n'), scenario.fact);
      assert.ok(root.confidence > 0 && root.confidence <= 1);
    });
  }

  it('decides inconclusive, not fail, for history-based causes when there is no green run', () => {
    const { ranked } = investigate(frame());
    for (const cause of ['config_changed', 'upstream_changed', 'flaky']) {
      assert.equal(ranked.find((hypothesis) => hypothesis.cause === cause)?.verdict, 'inconclusive', cause);
    }
  });

  it('does not blame a change in another job on the failing one', () => {
    const subject = frame({
      lastGreen: green,
      changes: [
        {
          kind: 'definition',
          path: 'jobs.docs.steps[0].script',
          job: 'docs',
          step: 'x',
          before: 'a',
          after: 'b',
          reachesFailure: false,
        },
      ],
    });
    const { ranked } = investigate(subject);
    assert.equal(ranked.find((hypothesis) => hypothesis.cause === 'config_changed')?.verdict, 'fail');
    assert.equal(ranked.find((hypothesis) => hypothesis.cause === 'flaky')?.verdict, 'fail');
  });

  it('gives low confidence and asks a human when no hypothesis passes', () => {
    const subject = frame({ exitCode: 137, reason: 'signal' });
    const ranked = rankByVerdict(
      [
        {
          cause: 'oom',
          rank: 1,
          description: '',
          testPlan: '',
          dataNeeded: [],
          passRule: '',
          failRule: '',
          because: [],
          verdict: 'inconclusive',
          evidence: ['SIGKILL without the OOM flag'],
        },
      ],
      [],
    );
    const root = conclude(subject, ranked);
    assert.equal(root.cause, 'oom');
    assert.ok(root.confidence < 0.6);
    assert.ok(root.humanChecks.some((check) => check.includes('SIGKILL without the OOM flag')));
  });
});

describe('hypothesising', () => {
  it('ranks by the frame: an OOM kill puts oom first, and leaves out causes with no prior', () => {
    const hypotheses = hypothesise(frame({ exitCode: 137, reason: 'oom_killed' }));
    assert.equal(hypotheses[0]?.cause, 'oom');
    assert.ok(hypotheses.length <= 8);
    assert.ok(!hypotheses.some((hypothesis) => hypothesis.cause === 'artifact_missing'));
    assert.deepEqual(
      hypotheses.map((hypothesis) => hypothesis.rank),
      hypotheses.map((_, index) => index + 1),
    );
  });

  it('ranks a cause a human confirmed in a similar incident first, and says why', () => {
    const similar = [{ id: 'incident-x-1', cause: 'network_unreachable', confirmed: true, at: '2026-01-01T00:00:00Z' }];
    const hypotheses = hypothesise(frame(), similar);
    assert.equal(hypotheses[0]?.cause, 'network_unreachable');
    assert.match(hypotheses[0]!.because.join(' '), /confirmed by a human in incident-x-1/);
  });

  it('puts a confirmed cause that passes above a more specific passing one', () => {
    const similar = [{ id: 'incident-x-1', cause: 'test_failure', confirmed: true, at: '2026-01-01T00:00:00Z' }];
    const base = {
      description: '',
      testPlan: '',
      dataNeeded: [],
      passRule: '',
      failRule: '',
      because: [],
      evidence: ['e'],
    };
    const ranked = rankByVerdict(
      [
        { ...base, cause: 'command_not_found', rank: 1, verdict: 'pass', strength: 0.9 },
        { ...base, cause: 'test_failure', rank: 2, verdict: 'pass', strength: 0.7 },
      ],
      similar,
    );
    assert.equal(ranked[0]?.cause, 'test_failure');
  });
});
