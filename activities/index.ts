/** Activity factories, wired with real clients by the worker (STYLE.md 5). */
export { createDockerStepActivities } from './docker-step';
export { createDockerResourceActivities } from './docker-resources';
