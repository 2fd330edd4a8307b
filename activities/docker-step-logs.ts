/**
 * A step's output: followed from Docker's log of the container, split into stdout and stderr lines, masked, and
 * written to the log store as it arrives, each line with Docker's own timestamp. An attempt that adopts a container
 * resumes from the log store's last stored line — by Docker's timestamps, not by when a line was written — so every
 * line is stored exactly once, whatever the crashed attempt managed to store.
 */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { LogResumePoint, LogWriter } from './log-store';
import { LineSplitter } from './line-splitter';

/**
 * Docker's RFC 3339 timestamps drop trailing zeros of the fraction (`…:15.6784Z`); padded to nine digits they
 * compare correctly as text.
 */
export function normalizeDockerTimestamp(ts: string): string {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  if (!match) return ts;
  return `${match[1]}.${(match[2] ?? '').padEnd(9, '0').slice(0, 9)}Z`;
}

/**
 * Follows the container's log into `writer` until the container exits, skipping what `resume` says is stored
 * already: every line stamped before it, and the first `resume.count` lines stamped exactly at it. `stop` ends the
 * following early (a worker handing its step over): a last line without its newline yet is then left for the
 * attempt that adopts the container to store whole.
 */
export async function followStepLogs(
  container: Docker.Container,
  resume: LogResumePoint | undefined,
  writer: LogWriter,
  where: { job: string; step: string; attempt: number },
  mask: (line: string) => string,
  onLine: (line: string) => void,
  stop?: AbortSignal,
): Promise<void> {
  // `since` has whole seconds here; the lines of that second before the resume point are skipped below.
  const since = resume ? Math.floor(Date.parse(resume.ts) / 1000) : 0;
  let raw: NodeJS.ReadableStream;
  try {
    raw = (await container.logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      since,
      abortSignal: stop,
    })) as unknown as NodeJS.ReadableStream;
  } catch (error) {
    if (stop?.aborted) return;
    throw error;
  }
  let skipAtResume = resume?.count ?? 0;
  const sink = (stream: 'stdout' | 'stderr') =>
    new LineSplitter((stamped) => {
      const space = stamped.indexOf(' ');
      const ts = normalizeDockerTimestamp(stamped.slice(0, space));
      if (resume && ts < resume.ts) return;
      if (resume && ts === resume.ts && skipAtResume > 0) {
        skipAtResume -= 1;
        return;
      }
      // Masked before it is stored or kept in the tail: a secret never leaves this function.
      const line = mask(stamped.slice(space + 1));
      writer.write({ ts, stream, ...where, line });
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
    raw.on('error', (error) => (stop?.aborted ? resolve() : reject(error)));
  });
  if (stop?.aborted) return;
  out.flush();
  err.flush();
}
