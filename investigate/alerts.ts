/**
 * Alert intake (docs/investigations.md, "Alerts"; INC-010…014): Alertmanager's webhook body and a generic JSON
 * form, validated with zod and normalised to `IncidentSignal`s. Deterministic, no LLM (INC-014).
 *
 * An alert's fingerprint is its group, not its label set: Alertmanager's `groupLabels` (else the `alertname`), so
 * that the twenty alerts one cause fires are one incident.
 */
import { z } from 'zod';
import { shortHash } from './fingerprint';
import type { IncidentSignal, Severity } from './incident';

const labelsSchema = z.record(z.string(), z.string());

const alertmanagerAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelsSchema,
  annotations: labelsSchema.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

/** Alertmanager's webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export const alertmanagerWebhookSchema = z.object({
  version: z.string(),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelsSchema.default({}),
  commonLabels: labelsSchema.default({}),
  commonAnnotations: labelsSchema.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(alertmanagerAlertSchema).min(1),
});

/** The generic form: one alert (or a list) from any source that can POST JSON. */
export const genericAlertSchema = z.object({
  source: z.string().min(1),
  title: z.string().min(1),
  severity: z.string().optional(),
  environment: z.string().optional(),
  fingerprint: z.string().min(1).optional(),
  labels: labelsSchema.default({}),
  annotations: labelsSchema.default({}),
  startsAt: z.iso.datetime({ offset: true }).optional(),
  endsAt: z.iso.datetime({ offset: true }).optional(),
  status: z.enum(['firing', 'resolved']).default('firing'),
  links: z.array(z.string()).default([]),
});

/** A body that is neither form, with the first problem located (`alerts[2].startsAt: …`). */
export class AlertBodyError extends Error {
  override name = 'AlertBodyError';
}

function severityOf(value: string | undefined): Severity {
  const text = (value ?? '').toLowerCase();
  if (['critical', 'page', 'error', 'high', 'p1', 'sev1'].includes(text)) return 'critical';
  if (['warning', 'warn', 'medium', 'p2', 'p3'].includes(text)) return 'warning';
  return 'info';
}

function labelText(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}=${labels[name]}`)
    .join(',');
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid body';
  const where = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
  return `${where.replace(/^\./, '') || 'body'}: ${issue.message}`;
}

/**
 * Normalises a POSTed body: Alertmanager's webhook (recognised by `groupKey` and `alerts`) or the generic form
 * (an object or an array of them). Throws `AlertBodyError` naming the first problem.
 */
export function normaliseAlerts(body: unknown, receivedAt: string): IncidentSignal[] {
  if (body && typeof body === 'object' && !Array.isArray(body) && ('groupKey' in body || 'alerts' in body)) {
    const parsed = alertmanagerWebhookSchema.safeParse(body);
    if (!parsed.success) throw new AlertBodyError(`Alertmanager webhook: ${firstIssue(parsed.error)}`);
    const hook = parsed.data;
    return hook.alerts.map((alert) => {
      const labels = { ...hook.commonLabels, ...alert.labels };
      const group = Object.keys(hook.groupLabels).length > 0 ? hook.groupLabels : { alertname: labels.alertname ?? '' };
      const key = `alertmanager\u0000${hook.receiver}\u0000${labelText(group)}`;
      return {
        source: 'alertmanager',
        kind: 'alert' as const,
        severity: severityOf(labels.severity),
        environment: labels.environment ?? labels.env,
        fingerprint: shortHash(key),
        family: shortHash(`alertmanager\u0000${labels.alertname ?? ''}`),
        title: alert.annotations.summary ?? hook.commonAnnotations.summary ?? labels.alertname ?? 'alert',
        labels,
        annotations: { ...hook.commonAnnotations, ...alert.annotations },
        startsAt: alert.startsAt,
        endsAt: alert.endsAt && !alert.endsAt.startsWith('0001-') ? alert.endsAt : undefined,
        links: [alert.generatorURL, hook.externalURL].filter((link): link is string => Boolean(link)),
        subject: { alert: labels.alertname ?? hook.groupKey },
        status: alert.status,
      };
    });
  }
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) throw new AlertBodyError('body: expected an alert or a non-empty list of alerts');
  return list.map((item, index) => {
    const parsed = genericAlertSchema.safeParse(item);
    if (!parsed.success) {
      throw new AlertBodyError(`${Array.isArray(body) ? `[${index}].` : ''}${firstIssue(parsed.error)}`);
    }
    const alert = parsed.data;
    const fingerprintKey = alert.fingerprint ?? `${alert.title}\u0000${labelText(alert.labels)}`;
    return {
      source: alert.source,
      kind: 'alert' as const,
      severity: severityOf(alert.severity ?? alert.labels.severity),
      environment: alert.environment ?? alert.labels.environment,
      fingerprint: shortHash(`${alert.source}\u0000${fingerprintKey}`),
      family: shortHash(`${alert.source}\u0000${alert.title}`),
      title: alert.title,
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt ?? receivedAt,
      endsAt: alert.endsAt,
      links: alert.links,
      subject: { alert: alert.title },
      status: alert.status,
    };
  });
}
