/**
 * Checks schedule cron expressions as Temporal Schedules read them: five fields (minute hour day-of-month month
 * day-of-week) or a descriptor such as `@daily`. The check itself is croner's, a dependency-free parser.
 */
import { CronPattern } from 'croner';

const descriptors = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Why `expression` is not a usable cron expression, or `undefined` when it is. */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed === '') return 'the cron expression is empty';
  if (trimmed.startsWith('@')) {
    return descriptors.includes(trimmed.toLowerCase())
      ? undefined
      : `'${trimmed}' is not a cron descriptor (use one of ${descriptors.join(', ')})`;
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) {
    return `'${trimmed}' has ${fields.length} field${fields.length === 1 ? '' : 's'}; a cron expression has five`;
  }
  try {
    new CronPattern(trimmed);
    return undefined;
  } catch (error) {
    const message = (error as Error).message.replace(/^CronPattern: /, '');
    return `'${trimmed}' is not a valid cron expression: ${message}`;
  }
}
