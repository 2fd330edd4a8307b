/**
 * A reader that goes away (`conveyor dev status | head -1`, `conveyor logs RUN | less` quit early) ends the command
 * quietly, as the conventional SIGPIPE would: no EPIPE stack trace, exit status 141 (128 + SIGPIPE), which is what
 * a shell reports for `git log | head -1` too. A run being followed goes on; only the following stops.
 */

/** The exit status of a command whose output pipe was closed by its reader. */
export const closedPipeExitCode = 141;

/** Installs the handlers on stdout and stderr (once, at start-up). */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(closedPipeExitCode);
      throw error;
    });
  }
}
