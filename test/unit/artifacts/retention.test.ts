/**
 * Retention decisions (docs/artifacts.md): the seed's decision matrix and pressure levels as tables, its FX-1
 * example as written, and the count, size and pattern rules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideRetention,
  deletionOrder,
  matchPolicy,
  type RetentionCandidate,
  type RetentionContext,
} from '../../../activities/artifacts/retention-decision';
import { pressureLevel, type PressureLevel } from '../../../activities/artifacts/quota';
import { artifactSettings } from '../../../config/artifacts-config';
import { parseConfigFile } from '../../../config/config-file';
import { normaliseRetentionPolicy, type RetentionPolicy } from '../../../pipeline/retention-policy';

const now = new Date('2026-06-01T12:00:00Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 24 * 3600 * 1000).toISOString();
const hoursAgo = (hours: number) => daysAgo(hours / 24);

let serial = 0;
function candidate(
  overrides: Partial<RetentionCandidate> & { ageDays: number; usedHoursAgo?: number },
): RetentionCandidate {
  const { ageDays, usedHoursAgo, ...rest } = overrides;
  serial += 1;
  return {
    key: `meta/artifacts/p/run-${serial}/job/a.json`,
    name: 'dist',
    pipeline: 'p',
    run: `run-${serial}`,
    job: 'job',
    digest: serial.toString(16).padStart(64, '0'),
    size: 1000,
    createdAt: daysAgo(ageDays),
    lastAccessedAt: usedHoursAgo === undefined ? daysAgo(ageDays) : hoursAgo(usedHoursAgo),
    references: 0,
    ...rest,
  };
}

function context(
  level: PressureLevel = 'green',
  policies: RetentionPolicy[] = [],
  extra: Partial<RetentionContext> = {},
): RetentionContext {
  return { now, level, policies, storeBytes: 1e6, quotaBytes: 1e9, ...extra };
}

function decide(one: RetentionCandidate, ctx: RetentionContext) {
  const [decision] = decideRetention([one], ctx);
  return `${decision!.decision}:${decision!.reason}`;
}

// The seed's FX-1, verbatim.
const fx1 = `retention_policies:

  - name: "release_artifacts"
    pattern: "release-v.*"
    max_age_days: 90
    grace_period_hours: 168 # 7 days
    priority: 100

  - name: "test_artifacts"
    pattern: "test-.*"
    max_age_days: 7
    grace_period_hours: 24
    priority: 50

  - name: "default_policy"
    pattern: "."
    max_age_days: 30
    grace_period_hours: 72
    priority: 1
`;

describe('the seed decision matrix (ART-062), with the built-in default policy', () => {
  // Age | References | Last access | Storage pressure | Decision
  const rows: [
    string,
    Partial<RetentionCandidate> & { ageDays: number; usedHoursAgo?: number },
    PressureLevel,
    string,
  ][] = [
    ['< 7 d, referenced, just used', { ageDays: 3, references: 2, usedHoursAgo: 1 }, 'green', 'keep:referenced'],
    ['< 7 d, unreferenced, never used', { ageDays: 6.9 }, 'green', 'keep:young'],
    ['< 7 d, unreferenced, under orange pressure', { ageDays: 5 }, 'orange', 'keep:young'],
    [
      '7–30 d, referenced, used < 24 h ago',
      { ageDays: 15, references: 1, usedHoursAgo: 12 },
      'green',
      'keep:referenced',
    ],
    ['7–30 d, unreferenced, used > 72 h ago', { ageDays: 15, usedHoursAgo: 80 }, 'green', 'delete:unused'],
    ['7–30 d, unreferenced, used < 72 h ago', { ageDays: 15, usedHoursAgo: 40 }, 'green', 'keep:grace'],
    [
      '> 30 d, referenced, used < 7 d ago',
      { ageDays: 45, references: 1, usedHoursAgo: 48 },
      'green',
      'keep:referenced',
    ],
    ['> 30 d, unreferenced, used > 7 d ago', { ageDays: 45, usedHoursAgo: 10 * 24 }, 'green', 'delete:expired'],
    [
      '> 30 d, unreferenced, used > 7 d ago, any pressure',
      { ageDays: 45, usedHoursAgo: 10 * 24 },
      'yellow',
      'delete:expired',
    ],
    [
      'high pressure: aggressive (orange halves the 72 h grace)',
      { ageDays: 15, usedHoursAgo: 40 },
      'orange',
      'delete:unused',
    ],
  ];
  for (const [row, input, level, expected] of rows) {
    it(row, () => assert.equal(decide(candidate(input), context(level)), expected));
  }
});

describe('storage pressure levels (ART-080…083)', () => {
  const levels: [number, PressureLevel][] = [
    [0, 'green'],
    [79.9, 'green'],
    [80, 'yellow'],
    [89.9, 'yellow'],
    [90, 'orange'],
    [95, 'red'],
    [97.9, 'red'],
    [98, 'critical'],
    [120, 'critical'],
  ];
  for (const [percent, level] of levels) {
    it(`${percent} % of the quota is ${level}`, () => assert.equal(pressureLevel(percent * 1e7, 1e9), level));
  }

  const fx1Default = [
    normaliseRetentionPolicy({
      name: 'default_policy',
      pattern: '.',
      max_age_days: 30,
      grace_period_hours: 72,
      priority: 1,
    }),
  ];
  const effects: [PressureLevel, string, string][] = [
    ['green', 'keep:retained', 'a 25-day-old artifact is within 30 days'],
    ['yellow', 'delete:expired', 'yellow cuts 30 days by 25 % to 22.5'],
    ['orange', 'delete:expired', 'orange cuts it by 50 % to 15'],
    ['red', 'delete:pressure', 'red deletes every unreferenced artifact'],
    ['critical', 'delete:pressure', 'critical too (and refuses uploads)'],
  ];
  for (const [level, expected, why] of effects) {
    it(`${level}: ${why}`, () => {
      assert.equal(decide(candidate({ ageDays: 25, usedHoursAgo: 10 * 24 }), context(level, fx1Default)), expected);
    });
  }

  it('red spares referenced artifacts, and deletes even the youngest unreferenced ones', () => {
    assert.equal(decide(candidate({ ageDays: 0.1, references: 1 }), context('red')), 'keep:referenced');
    assert.equal(decide(candidate({ ageDays: 0.1 }), context('red')), 'delete:pressure');
  });
});

describe("the seed's FX-1 policies", () => {
  const settings = artifactSettings(parseConfigFile(fx1, 'conveyor.config.yml'));

  it('load as written, in the seed format', () => {
    assert.deepEqual(
      settings.policies.map((p) => [p.name, p.pattern, p.maxAgeDays, p.gracePeriodHours, p.priority]),
      [
        ['release_artifacts', 'release-v.*', 90, 168, 100],
        ['test_artifacts', 'test-.*', 7, 24, 50],
        ['default_policy', '.', 30, 72, 1],
      ],
    );
  });

  it('match by priority, the first match deciding', () => {
    assert.equal(matchPolicy('release-v1.2', settings.policies).name, 'release_artifacts');
    assert.equal(matchPolicy('test-report', settings.policies).name, 'test_artifacts');
    assert.equal(matchPolicy('dist', settings.policies).name, 'default_policy');
    // Patterns match from the start of the name.
    assert.equal(matchPolicy('my-test-report', settings.policies).name, 'default_policy');
  });

  const rows: [string, string, { ageDays: number; usedHoursAgo?: number }, string][] = [
    ['test artifacts are kept 7 days', 'test-report', { ageDays: 6 }, 'keep:young'],
    ['… and go after that', 'test-report', { ageDays: 8 }, 'delete:expired'],
    ['… unless used within their 24 h grace', 'test-report', { ageDays: 8, usedHoursAgo: 20 }, 'keep:grace'],
    ['release artifacts are kept 90 days', 'release-v1.2', { ageDays: 60 }, 'keep:retained'],
    ['… and go after that', 'release-v1.2', { ageDays: 100 }, 'delete:expired'],
    ['… unless used within their 168 h grace', 'release-v1.2', { ageDays: 100, usedHoursAgo: 150 }, 'keep:grace'],
    ['others 30 days', 'dist', { ageDays: 20 }, 'keep:retained'],
    ['… and go after that', 'dist', { ageDays: 31, usedHoursAgo: 100 }, 'delete:expired'],
  ];
  for (const [row, name, age, expected] of rows) {
    it(row, () => assert.equal(decide(candidate({ name, ...age }), context('green', settings.policies)), expected));
  }

  it('let a pipeline policy (artifacts.retention) win over configured ones of equal priority', () => {
    const pipelinePolicy = normaliseRetentionPolicy({
      name: 'keep-dist-long',
      pattern: 'dist',
      max_age_days: 365,
      priority: 1,
    });
    const one = candidate({ name: 'dist', ageDays: 100, policies: [pipelinePolicy] });
    const [decision] = decideRetention([one], context('green', settings.policies));
    assert.deepEqual([decision!.decision, decision!.policy], ['keep', 'keep-dist-long']);
  });
});

describe('count, size and pattern rules', () => {
  it('keeps the newest N per pipeline (ART-060 count-based), sparing referenced ones', () => {
    const policy = normaliseRetentionPolicy({ name: 'last-two', pattern: '.', max_artifacts_per_pipeline: 2 });
    const items = [
      candidate({ ageDays: 1, pipeline: 'a' }),
      candidate({ ageDays: 2, pipeline: 'a' }),
      candidate({ ageDays: 3, pipeline: 'a' }),
      candidate({ ageDays: 4, pipeline: 'a', references: 1 }),
      candidate({ ageDays: 5, pipeline: 'b' }),
    ];
    const decisions = decideRetention(items, context('green', [policy]));
    assert.deepEqual(
      decisions.map((d) => `${d.decision}:${d.reason}`),
      ['keep:young', 'keep:young', 'delete:count', 'keep:referenced', 'keep:young'],
    );
  });

  it('evicts the least recently used above max_total_size, counting shared content once', () => {
    const shared = 'f'.repeat(64);
    const items = [
      candidate({ ageDays: 20, usedHoursAgo: 100, size: 400, digest: shared }),
      candidate({ ageDays: 20, usedHoursAgo: 90, size: 400, digest: shared }),
      candidate({ ageDays: 20, usedHoursAgo: 80, size: 300 }),
      candidate({ ageDays: 20, usedHoursAgo: 10, size: 300 }),
    ];
    const policy = normaliseRetentionPolicy({ name: 'long', pattern: '.', max_age_days: 365 });
    const decisions = decideRetention(items, context('green', [policy], { storeBytes: 1000, maxTotalBytes: 350 }));
    assert.deepEqual(
      decisions.map((d) => `${d.decision}:${d.reason}`),
      ['delete:size', 'delete:size', 'delete:size', 'keep:retained'],
    );
  });

  it('deletes by pattern (ART-071: *.tmp) and, under critical pressure, the largest first', () => {
    const tmp = normaliseRetentionPolicy({ name: 'tmp', pattern: '.*\\.tmp$', max_age_days: 0, priority: 10 });
    assert.equal(decide(candidate({ name: 'scratch.tmp', ageDays: 0.01 }), context('green', [tmp])), 'delete:expired');
    const items = [
      candidate({ ageDays: 1, size: 10 }),
      candidate({ ageDays: 2, size: 2e9 }),
      candidate({ ageDays: 3, size: 5e8 }),
    ];
    const decisions = decideRetention(items, context('critical'));
    const byKey = new Map(items.map((item) => [item.key, item]));
    assert.deepEqual(
      deletionOrder(decisions, byKey, 'critical').map((d) => d.size),
      [2e9, 5e8, 10],
    );
    assert.deepEqual(
      deletionOrder(decideRetention(items, context('red')), byKey, 'green').map((d) => d.size),
      [5e8, 2e9, 10],
    );
  });

  it('treats a store above a policy size threshold as orange for that policy, and min_reference_count 0 ignores references', () => {
    const big = normaliseRetentionPolicy({ name: 'big', pattern: '.', max_age_days: 30, size_threshold_gb: 0.0001 });
    assert.equal(decide(candidate({ ageDays: 20 }), context('green', [big], { storeBytes: 1e6 })), 'delete:expired');
    const unprotected = normaliseRetentionPolicy({ name: 'u', pattern: '.', max_age_days: 10, min_reference_count: 0 });
    assert.equal(decide(candidate({ ageDays: 20, references: 3 }), context('green', [unprotected])), 'delete:expired');
  });
});
