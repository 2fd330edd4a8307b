import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlertBodyError, normaliseAlerts } from '../../../investigate/alerts';
import { alertmanagerBody } from '../../helpers/alerts';

describe('alert intake', () => {
  it("normalises Alertmanager's webhook: one signal per alert, one fingerprint per group", () => {
    const signals = normaliseAlerts(alertmanagerBody('HighErrorRate', 7), '2026-11-23T22:00:01Z');
    assert.equal(signals.length, 7);
    assert.equal(new Set(signals.map((signal) => signal.fingerprint)).size, 1);
    const [first] = signals;
    assert.equal(first?.source, 'alertmanager');
    assert.equal(first?.severity, 'critical');
    assert.equal(first?.environment, 'production');
    assert.equal(first?.title, 'HighErrorRate is firing');
    assert.equal(first?.endsAt, undefined);
    assert.equal(first?.labels.instance, 'host-0');
    assert.deepEqual(first?.links, ['http://prometheus.local/graph?g0.expr=0', 'http://alertmanager.local']);
    const other = normaliseAlerts(alertmanagerBody('DiskFull', 1, 'warning'), '2026-11-23T22:00:01Z');
    assert.notEqual(other[0]?.fingerprint, first?.fingerprint);
    assert.equal(other[0]?.severity, 'warning');
  });

  it('normalises the generic form, one alert or a list', () => {
    const signals = normaliseAlerts(
      [{ source: 'grafana', title: 'Queue backlog', labels: { env: 'prod' }, severity: 'warn' }],
      '2026-11-23T22:00:01Z',
    );
    assert.equal(signals[0]?.source, 'grafana');
    assert.equal(signals[0]?.severity, 'warning');
    assert.equal(signals[0]?.startsAt, '2026-11-23T22:00:01Z');
  });

  it('rejects a malformed body with the path of the first problem', () => {
    const body = alertmanagerBody('X', 3);
    (body.alerts[1] as { startsAt: string }).startsAt = 'yesterday';
    assert.throws(
      () => normaliseAlerts(body, 'now'),
      (error: unknown) => {
        assert.ok(error instanceof AlertBodyError);
        assert.match(error.message, /^Alertmanager webhook: alerts\[1\]\.startsAt: /);
        return true;
      },
    );
    assert.throws(() => normaliseAlerts({ title: 'x' }, 'now'), /^AlertBodyError: source: /);
    assert.throws(() => normaliseAlerts([], 'now'), /non-empty list/);
  });
});
