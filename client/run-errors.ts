/** Errors about runs that every front end (CLI, HTTP API) tells apart: an unknown run, a run in the wrong state. */
import { CliError } from './cli-error';

/** No workflow with this run id exists (the API answers 404, the CLI exits 2). */
export class RunNotFoundError extends CliError {
  constructor(readonly runId: string) {
    super(`no run '${runId}' (list runs with 'conveyor list')`, 2);
    this.name = 'RunNotFoundError';
  }
}

/** The run exists but cannot do what was asked in its current state (the API answers 409). */
export class RunStateError extends CliError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'RunStateError';
  }
}
