/**
 * Ctrl-C while `conveyor run` follows a run. The run lives in Temporal, not in the CLI, so stopping the CLI does
 * not stop it: on a terminal the CLI asks whether to cancel the run; elsewhere (CI, a pipe) it stops following and
 * prints the exact command that cancels it (docs/runs.md).
 */
import { createInterface } from 'node:readline';

/** Exit status after Ctrl-C (128 + SIGINT), as shells report for an interrupted command. */
export const interruptedExitCode = 130;

/** What the handler needs from the follower. */
export interface InterruptTarget {
  runId: string;
  /** Whether to ask (stdin and stderr are terminals). */
  interactive: boolean;
  /** Stops writing while the question is on screen, and goes on afterwards. */
  hold: () => void;
  resume: () => void;
  /** Requests the run's cancellation; the follower then shows it ending. */
  cancel: () => Promise<void>;
  /** Leaves at once, the run going on (exits the process). */
  leave: (code: number) => void;
}

/** The lines printed when the CLI stops following a run that goes on. */
export function leavingMessage(runId: string): string {
  return (
    `conveyor: stopped following run ${runId}; it goes on.\n` +
    `  follow it again:  conveyor logs -f ${runId}\n` +
    `  cancel it:        conveyor cancel ${runId}\n`
  );
}

/** Installs the SIGINT handler; returns a function that removes it. */
export function handleInterrupts(target: InterruptTarget): () => void {
  let asking = false;
  let cancelling = false;
  const leave = () => {
    process.stderr.write(`\n${leavingMessage(target.runId)}`);
    target.leave(interruptedExitCode);
  };
  const onSigint = () => {
    // A second Ctrl-C while asking, or any Ctrl-C away from a terminal, or after cancelling: just leave.
    if (!target.interactive || asking || cancelling) {
      leave();
      return;
    }
    asking = true;
    target.hold();
    const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // In the question the terminal is in raw mode: Ctrl-C arrives here, not as a signal.
    prompt.on('SIGINT', () => {
      prompt.close();
      leave();
    });
    prompt.question(`\nCancel run ${target.runId}? [y/N] `, (answer) => {
      prompt.close();
      asking = false;
      if (!/^y(es)?$/i.test(answer.trim())) {
        leave();
        return;
      }
      cancelling = true;
      process.stderr.write(`conveyor: cancelling run ${target.runId}; its containers are being stopped\n`);
      target.resume();
      target.cancel().catch((error: unknown) => {
        process.stderr.write(`conveyor: could not cancel run ${target.runId}: ${(error as Error).message}\n`);
        leave();
      });
    });
  };
  process.on('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}
