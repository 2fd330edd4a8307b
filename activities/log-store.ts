/**
 * The log store: every line a step prints, kept as a record apart from Temporal (DESIGN.md §5).
 *
 * The embedded backend writes one JSON-lines file per step attempt under `<dataDir>/runs/<run>/logs/`, appended as
 * output arrives, so the CLI can tail a run live while its worker writes it.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { slug } from './names';

/** One line of output. */
export interface LogRecord {
  /** ISO timestamp of when the worker received the line. */
  ts: string;
  stream: 'stdout' | 'stderr';
  job: string;
  step: string;
  /** The step attempt (1-based) that printed it. */
  attempt: number;
  line: string;
}

/** Where one step attempt's lines go. */
export interface LogWriter {
  write(record: Omit<LogRecord, 'ts'>): void;
  close(): Promise<void>;
}

/** Storage for run logs. */
export interface LogStore {
  writer(runId: string, job: string, step: string, attempt: number): Promise<LogWriter>;
  /** All records of a run so far, in file order per step attempt; `fromOffsets` resumes a previous read. */
  read(
    runId: string,
    fromOffsets?: Map<string, number>,
  ): Promise<{ records: LogRecord[]; offsets: Map<string, number> }>;
}

/** A log store on the local filesystem under `root` (the data dir's `runs/`). */
export function createFsLogStore(root: string): LogStore {
  const runDir = (runId: string) => path.join(root, slug(runId), 'logs');
  return {
    async writer(runId, job, step, attempt) {
      const dir = runDir(runId);
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${slug(job)}.${slug(step)}.${attempt}.jsonl`);
      const out: WriteStream = createWriteStream(file, { flags: 'a' });
      return {
        write(record) {
          out.write(`${JSON.stringify({ ts: new Date().toISOString(), ...record })}\n`);
        },
        close: () =>
          new Promise<void>((resolve, reject) =>
            out.end((error?: Error | null) => (error ? reject(error) : resolve())),
          ),
      };
    },
    async read(runId, fromOffsets = new Map()) {
      const dir = runDir(runId);
      const files = await readdir(dir).catch(() => [] as string[]);
      const records: LogRecord[] = [];
      const offsets = new Map(fromOffsets);
      for (const name of files.sort()) {
        const content = await readFile(path.join(dir, name));
        const start = offsets.get(name) ?? 0;
        // Only complete lines are consumed; a half-written last line is read on the next call.
        const end = content.lastIndexOf(0x0a) + 1;
        if (end <= start) continue;
        for (const line of content.subarray(start, end).toString('utf8').split('\n')) {
          if (line) records.push(JSON.parse(line) as LogRecord);
        }
        offsets.set(name, end);
      }
      return { records, offsets };
    },
  };
}
