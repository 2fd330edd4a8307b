/** Every workflow type the worker registers. */
export { pipelineRun } from './pipeline-run';
export { pipelineJob } from './pipeline-job';
export { concurrencyGroup } from './concurrency-group';
export { scheduledRun } from './scheduled-run';
export { deployment } from './deployment';
export { artifactRetention } from './artifact-retention';
export { investigation } from './investigation';
