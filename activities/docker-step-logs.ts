/**
 * A step's output: followed from Docker's log of the container, split into stdout and stderr lines, masked, and
 * written to the log store as it arrives. Docker's own timestamps say where an adopting attempt resumes.
 */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { LogWriter } from './log-store';
import { LineSplitter } from './line-splitter';

/** Where the log stream stands; heartbeated, so a retried activity resumes where the crashed one stopped. */
export interface LogPosition {
  /** Docker timestamp (RFC 3339, nanoseconds) of the last line written to the log store. */
  loggedUntil?: string;
}

/** Follows the container's log from `position.loggedUntil` (or the start) into `writer` until the container exits. */
export async function followStepLogs(
  container: Docker.Container,
  position: LogPosition,
  writer: LogWriter,
  where: { job: string; step: string; attempt: number },
  mask: (line: string) => string,
  onLine: (line: string) => void,
): Promise<void> {
  const since = position.loggedUntil ? Date.parse(position.loggedUntil) / 1000 : 0;
  const raw = (await container.logs({
    follow: true,
    stdout: true,
    stderr: true,
    timestamps: true,
    since,
  })) as unknown as NodeJS.ReadableStream;
  const resumeAfter = position.loggedUntil;
  const sink = (stream: 'stdout' | 'stderr') =>
    new LineSplitter((stamped) => {
      const space = stamped.indexOf(' ');
      const ts = stamped.slice(0, space);
      // Masked before it is stored, heartbeated or kept in the tail: a secret never leaves this function.
      const line = mask(stamped.slice(space + 1));
      // Lines at or before the last one a crashed attempt logged are already in the store.
      if (resumeAfter && ts <= resumeAfter) return;
      writer.write({ stream, ...where, line });
      position.loggedUntil = ts;
      onLine(line);
    });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = sink('stdout');
  const err = sink('stderr');
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  container.modem.demuxStream(raw, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    raw.on('end', resolve);
    raw.on('close', resolve);
    raw.on('error', reject);
  });
  out.flush();
  err.flush();
}
