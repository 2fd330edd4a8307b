import { z } from 'zod';
import { formatDuration, parseDuration } from './duration';

/**
 * A duration field: whole seconds or a string such as `90s`, `15m`, `2h`, `1h30m`, checked against a range and
 * turned into seconds.
 */
export function durationSchema(range: { min: number; max: number; default: number }, what: string) {
  return z
    .union([z.number(), z.string()], { error: 'expected a duration: seconds (90) or a string like "90s", "15m", "2h"' })
    .superRefine((value, context) => {
      const seconds = parseDuration(value);
      if (seconds === undefined) {
        context.addIssue({
          code: 'custom',
          message: `'${value}' is not a duration`,
          params: {
            code: 'invalid_duration',
            hint: 'write whole seconds (90) or a number with a unit: "90s", "15m", "2h", "1h30m"',
          },
        });
      } else if (seconds < range.min || seconds > range.max) {
        context.addIssue({
          code: 'custom',
          message: `${formatDuration(seconds)} is out of range: ${what} must be between ${formatDuration(range.min)} and ${formatDuration(range.max)}`,
          params: { code: 'invalid_duration', hint: `use a value between ${range.min} and ${range.max} seconds` },
        });
      }
    })
    .transform((value) => parseDuration(value) ?? range.default)
    .meta({
      description: `${what[0]?.toUpperCase()}${what.slice(1)}: seconds or "90s", "15m", "2h". Range ${range.min}–${range.max} s, default ${range.default} s.`,
      default: range.default,
    });
}
