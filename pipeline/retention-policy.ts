/**
 * Artifact retention policies as written in `conveyor.config.yml` (`retention_policies:`) or in a pipeline
 * (`artifacts.retention:`), and their normalised form (docs/artifacts.md). The seed's example (FX-1) is valid as
 * written: `name`, `pattern`, `max_age_days`, `grace_period_hours`, `priority`.
 */
import { z } from 'zod';

/** A regular expression source that compiles; matched from the start of the artifact's name. */
const patternSchema = z.string().superRefine((value, context) => {
  try {
    new RegExp(value);
  } catch (error) {
    context.addIssue({
      code: 'custom',
      message: `'${value}' is not a regular expression: ${(error as Error).message}`,
      params: { code: 'schema', hint: "write a regular expression such as 'release-v.*' or '.'" },
    });
  }
});

const nonNegative = (description: string) => z.number().min(0).optional().meta({ description });

/** One retention policy. */
export const retentionPolicySchema = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Name of the policy, shown in audit records and gc output.' }),
    pattern: patternSchema.meta({
      description: "Regular expression matched from the start of the artifact's name ('.' matches every name).",
    }),
    priority: z.int().optional().meta({ description: 'Higher first; the first matching policy decides.', default: 0 }),
    enabled: z.boolean().optional().meta({ description: 'A disabled policy matches nothing.', default: true }),
    max_age_days: nonNegative('Unreferenced artifacts older than this are deleted.'),
    min_age_days: nonNegative(
      'Nothing younger is deleted except under red pressure (default 7, at most max_age_days).',
    ),
    grace_period_hours: nonNegative('An artifact used (downloaded) within this many hours is kept.'),
    delete_after_days_unused: nonNegative('Unreferenced artifacts not used for this many days are deleted.'),
    max_artifacts_per_pipeline: z
      .int()
      .min(1)
      .optional()
      .meta({ description: 'Keep only the N newest matching artifacts of each pipeline.' }),
    min_reference_count: z
      .int()
      .min(0)
      .optional()
      .meta({ description: 'References needed to protect an artifact (default 1; 0: references do not protect).' }),
    size_threshold_gb: nonNegative('When the store holds more than this, the policy acts as under orange pressure.'),
  })
  .meta({ description: 'An artifact retention policy (docs/artifacts.md).' });

/** A list of retention policies. */
export const retentionPoliciesSchema = z.array(retentionPolicySchema);

/** A retention policy as written. */
export type RetentionPolicyInput = z.output<typeof retentionPolicySchema>;

/** A retention policy with every default applied: what the retention decision works on. Plain JSON. */
export interface RetentionPolicy {
  name: string;
  pattern: string;
  priority: number;
  enabled: boolean;
  maxAgeDays?: number;
  minAgeDays: number;
  gracePeriodHours: number;
  deleteAfterDaysUnused?: number;
  maxArtifactsPerPipeline?: number;
  minReferenceCount: number;
  sizeThresholdBytes?: number;
}

/**
 * The built-in policy, used when no configured policy matches: the seed's decision matrix (ART-062) — keep
 * everything younger than 7 days; afterwards an unreferenced artifact stays while it is used (72 h grace, 3 days
 * unused at most) and at most 30 days.
 */
export const defaultRetentionPolicy: RetentionPolicy = {
  name: 'builtin_default',
  pattern: '.',
  priority: Number.MIN_SAFE_INTEGER,
  enabled: true,
  maxAgeDays: 30,
  minAgeDays: 7,
  gracePeriodHours: 72,
  deleteAfterDaysUnused: 3,
  minReferenceCount: 1,
};

/** Applies defaults to a policy as written. */
export function normaliseRetentionPolicy(input: RetentionPolicyInput): RetentionPolicy {
  const policy: RetentionPolicy = {
    name: input.name,
    pattern: input.pattern,
    priority: input.priority ?? 0,
    enabled: input.enabled ?? true,
    minAgeDays: Math.min(input.min_age_days ?? 7, input.max_age_days ?? Infinity),
    gracePeriodHours: input.grace_period_hours ?? 0,
    minReferenceCount: input.min_reference_count ?? 1,
  };
  if (input.max_age_days !== undefined) policy.maxAgeDays = input.max_age_days;
  if (input.delete_after_days_unused !== undefined) policy.deleteAfterDaysUnused = input.delete_after_days_unused;
  if (input.max_artifacts_per_pipeline !== undefined) policy.maxArtifactsPerPipeline = input.max_artifacts_per_pipeline;
  if (input.size_threshold_gb !== undefined) policy.sizeThresholdBytes = input.size_threshold_gb * 1000 ** 3;
  return policy;
}
