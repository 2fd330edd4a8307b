/**
 * The deployment and alert causes' rules (docs/investigations.md, "Deployments", "Alerts"), on framed facts: each
 * kind of rollout ending ranks its own cause first with the decisive fact first in the evidence; the fingerprint
 * groups the same failure of the same version.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameDeployment } from '../../../activities/investigation/frame-subjects';
import { causeNamed } from '../../../investigate/catalogue';
import { conclude, rankByVerdict } from '../../../investigate/conclusion';
import { deploymentSignal, type DeploymentFacts } from '../../../investigate/deployment';
import { hypothesise } from '../../../investigate/hypothesise';
import type { FailureFrame } from '../../../investigate/incident';
import type { Measurement } from '../../../deploy/analysis';
import { deploySchema } from '../../../deploy/spec-schema';
import { toDeploySpec } from '../../../deploy/spec';

function spec(version: string, env: Record<string, string> = {}) {
  return toDeploySpec(
    deploySchema.parse({
      service: 'web',
      environment: 'prod',
      image: `web:${version}`,
      port: 8080,
      router: { port: 18080 },
      env,
    }),
  );
}

const measurement = (metric: string, value: number, condition: string): Measurement => ({
  at: '2026-11-24T01:00:10.000Z',
  source: 'background',
  window: { from: '2026-11-24T01:00:08.000Z', to: '2026-11-24T01:00:10.000Z', seconds: 2 },
  requests: { canary: 40, stable: 38 },
  verdict: 'fail',
  metrics: [
    { name: metric, verdict: 'fail', value, stable: 0.001, condition, reason: `${metric} ${value} > ${condition}` },
  ],
});

function facts(overrides: Partial<DeploymentFacts>): DeploymentFacts {
  return {
    deploymentId: 'deploy-web-prod',
    rolloutId: 'r-2',
    service: 'web',
    environment: 'prod',
    strategy: 'canary',
    outcome: 'rolled_back',
    release: { version: 'v2', image: 'web:v2', replicas: 2, spec: spec('v2', { CACHE: 'off' }) },
    previous: { version: 'v1', image: 'web:v1', replicas: 2, spec: spec('v1', { CACHE: 'on', API_TOKEN: 'x' }) },
    measurements: [],
    approvals: [],
    requestedBy: 'alice',
    startedAt: '2026-11-24T01:00:00.000Z',
    finishedAt: '2026-11-24T01:00:11.000Z',
    ...overrides,
  };
}

function investigate(frame: FailureFrame) {
  const hypotheses = hypothesise(frame).map((hypothesis) => ({
    ...hypothesis,
    ...causeNamed(hypothesis.cause).decide(frame, { logMatches: [], linesSearched: 0 }),
  }));
  const ranked = rankByVerdict(hypotheses, []);
  return { ranked, rootCause: conclude(frame, ranked) };
}

describe('deployment causes', () => {
  const cases: { name: string; facts: Partial<DeploymentFacts>; cause: string; fact: RegExp }[] = [
    {
      name: 'an error-rate analysis failure',
      facts: {
        reason: 'background analysis failed: error_rate 0.3 > max 0.05',
        evidence: { source: 'background analysis', measurement: measurement('error_rate', 0.3, 'max 0.05') },
      },
      cause: 'error_rate_regression',
      fact: /^v2: error_rate = 0\.3 against max 0\.05, stable 0\.001/,
    },
    {
      name: 'a latency analysis failure',
      facts: {
        evidence: { source: 'analysis (step 2)', measurement: measurement('latency_p95', 900, 'max 300') },
      },
      cause: 'latency_regression',
      fact: /^v2: latency_p95 = 900 against max 300/,
    },
    {
      name: 'a Prometheus metric failure',
      facts: { evidence: { source: 'background analysis', measurement: measurement('queue_depth', 90, 'max 10') } },
      cause: 'metric_regression',
      fact: /^v2: queue_depth = 90 against max 10/,
    },
    {
      name: 'a failing health check',
      facts: { evidence: { source: 'health check', instance: 'web-prod-v2-0', detail: 'HTTP 503' } },
      cause: 'health_check_failed',
      fact: /^health check of v2 on web-prod-v2-0 failed: HTTP 503/,
    },
    {
      name: 'a rejected gate',
      facts: {
        evidence: { source: "approval gate 'prod'" },
        approvals: [
          {
            gate: 'prod',
            user: 'bob',
            decision: 'rejected',
            channel: 'cli',
            at: '2026-11-24T01:00:05Z',
            comment: 'no',
          },
        ],
      },
      cause: 'approval_rejected',
      fact: /^gate 'prod' rejected by bob at .+: no$/,
    },
    {
      name: 'a gate that timed out',
      facts: {
        evidence: { source: "approval gate 'prod'" },
        approvals: [
          { gate: 'prod', user: 'system', decision: 'timed_out', channel: 'cli', at: '2026-11-24T01:00:05Z' },
        ],
      },
      cause: 'approval_timeout',
      fact: /^gate 'prod' timed out/,
    },
    {
      name: 'a rollout that failed before any check',
      facts: { outcome: 'failed', reason: "image 'web:v2' not found" },
      cause: 'rollout_error',
      fact: /failed before any check: image 'web:v2' not found/,
    },
  ];
  for (const entry of cases) {
    it(`finds ${entry.cause} for ${entry.name}`, () => {
      const frame = frameDeployment(deploymentSignal(facts(entry.facts)));
      const { ranked, rootCause } = investigate(frame);
      assert.equal(rootCause.cause, entry.cause, JSON.stringify(ranked.map((h) => [h.cause, h.verdict])));
      assert.match(ranked[0]!.evidence[0]!, entry.fact);
    });
  }

  it('frames what the version changed, hiding secret-like values', () => {
    const frame = frameDeployment(deploymentSignal(facts({})));
    assert.deepEqual(
      frame.changes.map((change) => [change.path, change.before, change.after]),
      [
        ['version', 'v1', 'v2'],
        ['image', 'web:v1', 'web:v2'],
        ['env.API_TOKEN', '••••••', undefined],
        ['env.CACHE', 'on', 'off'],
      ],
    );
  });

  it('groups the same failure of the same version, and calls another version similar', () => {
    const evidence = { source: 'background analysis', measurement: measurement('error_rate', 0.3, 'max 0.05') };
    const first = deploymentSignal(facts({ evidence }));
    const again = deploymentSignal(facts({ evidence: { ...evidence }, rolloutId: 'r-3' }));
    const other = deploymentSignal(
      facts({ evidence, release: { version: 'v3', image: 'web:v3', replicas: 2, spec: spec('v3') } }),
    );
    assert.equal(again.fingerprint, first.fingerprint);
    assert.notEqual(other.fingerprint, first.fingerprint);
    assert.equal(other.family, first.family);
  });
});
