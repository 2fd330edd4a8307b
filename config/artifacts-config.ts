/**
 * The artifact sections of `conveyor.config.yml` (docs/artifacts.md):
 *
 * ```yaml
 * artifacts:
 *   quota: 100GB              # new content is refused at 98 % of it (store_full)
 *   compression: none         # or gzip
 *   retention:
 *     interval: 4h            # how often the retention schedule runs
 *     max_deletions: 1000     # per cycle
 *     max_total_size: 80GB    # size-based eviction above this (optional)
 * retention_policies:         # the seed's format, e.g. its FX-1 example as written
 *   - name: release_artifacts
 *     pattern: "release-v.*"
 *     max_age_days: 90
 *     grace_period_hours: 168
 *     priority: 100
 * ```
 */
import { z } from 'zod';
import { parseDuration } from '../pipeline/duration';
import { parseMemorySize } from '../pipeline/memory-size';
import { normaliseRetentionPolicy, retentionPoliciesSchema, type RetentionPolicy } from '../pipeline/retention-policy';

const sizeSchema = (what: string) =>
  z
    .union([z.number(), z.string()], { error: `expected ${what} such as "100GB" or "512MiB"` })
    .superRefine((value, context) => {
      if (parseMemorySize(value) === undefined) {
        context.addIssue({
          code: 'custom',
          message: `'${value}' is not a size`,
          params: { code: 'schema', hint: 'write a size such as "100GB", "500MB" or "2GiB"' },
        });
      }
    });

const durationSchema = z.union([z.number(), z.string()]).superRefine((value, context) => {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds < 60) {
    context.addIssue({
      code: 'custom',
      message: `'${value}' is not a duration of at least a minute`,
      params: { code: 'invalid_duration', hint: 'write a duration such as "4h" or "30m"' },
    });
  }
});

/** The `artifacts:` section. */
export const artifactsConfigSchema = z
  .strictObject({
    quota: sizeSchema('a size').optional().meta({ description: 'Store quota (default 100GB).', default: '100GB' }),
    compression: z
      .enum(['none', 'gzip'])
      .optional()
      .meta({ description: 'How new artifacts are stored.', default: 'none' }),
    retention: z
      .strictObject({
        interval: durationSchema.optional().meta({ description: 'Time between retention cycles.', default: '4h' }),
        max_deletions: z
          .int()
          .min(1)
          .max(100_000)
          .optional()
          .meta({ description: 'At most this many deletions per cycle.', default: 1000 }),
        max_total_size: sizeSchema('a size')
          .optional()
          .meta({ description: 'Evict least recently used unreferenced artifacts above this size.' }),
      })
      .optional(),
  })
  .meta({ description: 'Artifact store settings (docs/artifacts.md).' });

/** The `retention_policies:` section: a list of policies, first match by priority wins. */
export const retentionPoliciesConfigSchema = retentionPoliciesSchema.meta({
  description: 'Artifact retention policies (docs/artifacts.md).',
});

/** The artifact settings with defaults applied. */
export interface ArtifactSettings {
  quotaBytes: number;
  compression: 'none' | 'gzip';
  retention: { intervalSeconds: number; maxDeletions: number; maxTotalBytes?: number };
  policies: RetentionPolicy[];
}

/** Default quota: 100 GB (ART-022). */
export const defaultQuotaBytes = 100 * 1000 ** 3;

/** The sections of the validated configuration file that artifacts read. */
export interface ArtifactConfigSections {
  artifacts?: z.output<typeof artifactsConfigSchema>;
  retention_policies?: z.output<typeof retentionPoliciesConfigSchema>;
}

/** Reads the artifact settings out of the validated configuration file (`loadConfig().file`). */
export function artifactSettings(file: ArtifactConfigSections): ArtifactSettings {
  const section = file.artifacts ?? {};
  const maxTotal = section.retention?.max_total_size;
  const retention: ArtifactSettings['retention'] = {
    intervalSeconds: parseDuration(section.retention?.interval ?? '4h') ?? 4 * 3600,
    maxDeletions: section.retention?.max_deletions ?? 1000,
  };
  if (maxTotal !== undefined) retention.maxTotalBytes = parseMemorySize(maxTotal);
  return {
    quotaBytes: section.quota === undefined ? defaultQuotaBytes : (parseMemorySize(section.quota) ?? defaultQuotaBytes),
    compression: section.compression ?? 'none',
    retention,
    policies: (file.retention_policies ?? []).map(normaliseRetentionPolicy),
  };
}
