/**
 * Jobs run inline in the run's workflow while its estimated history stays within this many events, else as child
 * workflows (docs/architecture.md, "Inline jobs or child workflows"). Changing it is safe for runs in flight: each
 * run records its decision when it starts (workflows/job-placement.ts).
 */
export const inlineEventBudget = 10_000;
