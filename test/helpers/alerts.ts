/** Alert bodies as Alertmanager sends them, for the intake's tests. */

/** An Alertmanager webhook body for `count` alerts of one group. */
export function alertmanagerBody(alertname: string, count: number, severity = 'critical') {
  return {
    version: '4',
    groupKey: `{}:{alertname="${alertname}"}`,
    status: 'firing',
    receiver: 'conveyor',
    groupLabels: { alertname },
    commonLabels: { alertname, severity, environment: 'production' },
    commonAnnotations: { summary: `${alertname} is firing` },
    externalURL: 'http://alertmanager.local',
    alerts: Array.from({ length: count }, (_, index) => ({
      status: 'firing',
      labels: { alertname, severity, environment: 'production', instance: `host-${index}` },
      annotations: {},
      startsAt: '2026-11-23T22:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: `http://prometheus.local/graph?g0.expr=${index}`,
      fingerprint: `f${index}`,
    })),
  };
}
