/**
 * The `investigations:` section of `conveyor.config.yml` (docs/investigations.md): which alerts are investigated
 * automatically, and the remediation policy per cause. Failed runs are always investigated.
 *
 * ```yaml
 * investigations:
 *   auto_investigate:
 *     - source: alertmanager
 *       severity: [critical]
 *       labels: {environment: production, alertname: '~^Pipeline'}
 *   remediation: {oom: suggest, flaky: suggest}
 * ```
 *
 * An alert is investigated at once when any rule matches it: its `source` (if given), one of its `severity` values
 * (if given), and every label matcher — an exact value, or after `~` a regular expression. The other alerts are
 * recorded and grouped, and investigated with `conveyor investigate --incident ID`.
 */
import { z } from 'zod';
import type { IncidentSignal } from '../investigate/incident';
import { investigationLlmSchema } from './investigations-llm';

const regexSource = z.string().refine(
  (value) => {
    if (!value.startsWith('~')) return true;
    try {
      new RegExp(value.slice(1));
      return true;
    } catch {
      return false;
    }
  },
  { message: "not a valid regular expression after '~'" },
);

const autoInvestigateRuleSchema = z.strictObject({
  source: z.string().min(1).optional().meta({ description: 'alertmanager, or a generic source name.' }),
  severity: z
    .array(z.enum(['critical', 'warning', 'info']))
    .min(1)
    .optional()
    .meta({ description: 'Any of these severities (default: any).' }),
  labels: z
    .record(z.string().min(1), regexSource)
    .default({})
    .meta({ description: "Label matchers: an exact value, or '~' and a regular expression." }),
});

export const investigationsSchema = z
  .strictObject({
    auto_investigate: z
      .array(autoInvestigateRuleSchema)
      .default([])
      .meta({ description: 'Alerts matching any rule are investigated at once; the rest are only recorded.' }),
    remediation: z
      .record(z.string().min(1), z.enum(['suggest', 'approve', 'auto']))
      .default({})
      .meta({
        description:
          "Policy per cause (default 'suggest'): 'approve' waits for the remediation update, 'auto' re-runs at once.",
      }),
    llm: investigationLlmSchema.optional(),
  })
  .meta({ description: 'Incident investigations (docs/investigations.md).' });

export type InvestigationsConfig = z.output<typeof investigationsSchema>;
type AutoInvestigateRule = InvestigationsConfig['auto_investigate'][number];

function labelMatches(value: string | undefined, matcher: string): boolean {
  if (value === undefined) return false;
  return matcher.startsWith('~') ? new RegExp(matcher.slice(1)).test(value) : value === matcher;
}

function ruleMatches(rule: AutoInvestigateRule, signal: IncidentSignal): boolean {
  if (rule.source && rule.source !== signal.source) return false;
  if (rule.severity && !rule.severity.includes(signal.severity)) return false;
  return Object.entries(rule.labels).every(([name, matcher]) => labelMatches(signal.labels[name], matcher));
}

/** Whether an alert is investigated at once under `config` (no section: none is). */
export function autoInvestigates(config: InvestigationsConfig | undefined, signal: IncidentSignal): boolean {
  return (config?.auto_investigate ?? []).some((rule) => ruleMatches(rule, signal));
}
