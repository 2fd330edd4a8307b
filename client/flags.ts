/** Commander helpers shared by commands; nothing here may load more than commander itself (docs/runs.md#start-up). */

/** Collector for repeatable flags (`--var A=1 --var B=2`). */
export function collectFlag(value: string, previous: string[]): string[] {
  return [...previous, value];
}
