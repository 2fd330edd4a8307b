/** The deploy block: the issue's example normalises as documented; mistakes are refused with a reason and a fix. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploySchema } from '../../../deploy/spec-schema';
import { toDeploySpec, versionOfImage } from '../../../deploy/spec';

const example = {
  service: 'web',
  environment: 'production',
  image: 'conveyor/web:1.4.2',
  port: 8080,
  replicas: 2,
  env: { MODE: 'prod', DEBUG: false },
  router: { kind: 'builtin', port: 18080, sticky: true },
  health_check: {
    http: { path: '/healthz', expect_status: 200, expect_body: 'ok' },
    interval: '2s',
    timeout: '1s',
    success_threshold: 2,
    failure_threshold: 2,
    start_timeout: '60s',
  },
  strategy: 'canary',
  canary: {
    replicas: 1,
    analysis: {
      interval: '2s',
      min_requests: 20,
      failure_limit: 1,
      inconclusive_limit: 3,
      metrics: [
        { name: 'error_rate', max: 0.05 },
        { name: 'latency_p95', max_ratio_to_stable: 1.5 },
      ],
    },
    steps: [
      { set_weight: 20 },
      { pause: '30s' },
      { analysis: { count: 5, metrics: [{ name: 'error_rate', max: 0.01 }] } },
      { approval: { approvers: ['alice', 'group:release'], required: 1, timeout: '1h', on_timeout: 'reject' } },
      { set_weight: 60 },
      { pause: '1m' },
    ],
  },
};

function problems(input: unknown): string[] {
  const parsed = deploySchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('the deploy block', () => {
  it('normalises the documented example: seconds, defaults, steps', () => {
    const spec = toDeploySpec(deploySchema.parse(example));
    assert.equal(spec.version, '1.4.2');
    assert.deepEqual(spec.env, { MODE: 'prod', DEBUG: 'false' });
    assert.deepEqual(spec.router, { kind: 'builtin', port: 18080, sticky: true, previewPort: undefined });
    assert.deepEqual(spec.healthCheck, {
      probe: { kind: 'http', path: '/healthz', expectStatus: 200, expectBody: 'ok' },
      intervalSeconds: 2,
      timeoutSeconds: 1,
      successThreshold: 2,
      failureThreshold: 2,
      startTimeoutSeconds: 60,
    });
    const steps = spec.canary!.steps;
    assert.deepEqual(steps[1], { kind: 'pause', seconds: 30 });
    assert.deepEqual(steps[3], {
      kind: 'approval',
      gate: {
        name: 'step-4',
        approvers: ['alice', 'group:release'],
        required: 1,
        timeoutSeconds: 3600,
        onTimeout: 'reject',
      },
    });
    const analysis = steps[2];
    assert.ok(analysis?.kind === 'analysis');
    assert.equal(analysis.analysis.intervalSeconds, 2, 'inherits the interval');
    assert.equal(analysis.analysis.metrics[0]!.max, 0.01);
  });

  it('defaults to a rolling update of one replica behind the builtin router, checked on /', () => {
    const spec = toDeploySpec(deploySchema.parse({ service: 'api', image: 'api', port: 80, router: { port: 20000 } }));
    assert.equal(spec.strategy, 'rolling');
    assert.equal(spec.environment, 'production');
    assert.equal(spec.version, 'latest');
    assert.deepEqual(spec.rolling, { batchSize: 1, maxUnavailable: 0, maxSurge: 1, drainTimeoutSeconds: 120 });
    assert.deepEqual(spec.healthCheck.probe, { kind: 'http', path: '/', expectStatus: 200, expectBody: undefined });
  });

  it('uses 5, 15, 35, 65 % stages of 15 minutes when a canary lists no steps', () => {
    const spec = toDeploySpec(deploySchema.parse({ ...example, canary: {} }));
    assert.deepEqual(
      spec.canary!.steps.filter((step) => step.kind === 'set_weight').map((step) => step.weight),
      [5, 15, 35, 65],
    );
    assert.deepEqual(spec.canary!.steps[1], { kind: 'pause', seconds: 900 });
  });

  it('takes the version from the tag, or a digest', () => {
    assert.equal(versionOfImage('localhost:5000/web:v2'), 'v2');
    assert.equal(versionOfImage('localhost:5000/web'), 'latest');
    assert.equal(versionOfImage('web@sha256:0123456789abcdef0123456789abcdef'), '0123456789ab');
  });

  it('refuses bad names, a block of another strategy, and a step doing two things', () => {
    assert.deepEqual(problems({ ...example, service: 'Web_1' }), ["service: 'Web_1' is not a valid service name"]);
    assert.deepEqual(problems({ ...example, rolling: { batch_size: 2 } }), [
      'rolling: rolling: is set but strategy is canary',
    ]);
    assert.deepEqual(problems({ ...example, canary: { steps: [{ set_weight: 20, pause: '10s' }] } }), [
      'canary.steps.0: a step does one thing, got set_weight and pause',
    ]);
  });

  it('refuses metrics without conditions, unknown metric names, and relative queries without a track', () => {
    const metrics = (list: unknown[]) => problems({ ...example, canary: { analysis: { metrics: list } } });
    assert.deepEqual(metrics([{ name: 'error_rate' }]), [
      "canary.analysis.metrics.0: metric 'error_rate' has no condition",
    ]);
    assert.deepEqual(metrics([{ name: 'errors', max: 1 }]), [
      "canary.analysis.metrics.0.name: 'errors' is not a built-in metric",
    ]);
    assert.deepEqual(metrics([{ name: 'q', prometheus: 'up', max_ratio_to_stable: 2 }]), [
      'canary.analysis.metrics.0.prometheus: a query compared with stable must mention {{track}} or {{version}}',
    ]);
  });

  it('refuses a rolling update that could never replace an instance, and bad durations', () => {
    assert.deepEqual(
      problems({ ...example, strategy: 'rolling', canary: undefined, rolling: { max_surge: 0, max_unavailable: 0 } }),
      ['rolling: max_surge and max_unavailable are both 0: no instance could ever be replaced'],
    );
    assert.match(problems({ ...example, health_check: { interval: 'soon' } })[0] ?? '', /'soon' is not a duration/);
  });
});
