/**
 * Errors the CLI reports as one line, without a stack trace: the message says what went wrong and how to fix it.
 */
export class CliError extends Error {
  constructor(
    message: string,
    /** Process exit code (1: the thing failed; 2: bad usage or unreadable input). */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
