/**
 * The log store: every line a step prints, kept as a record apart from Temporal (DESIGN.md §5).
 *
 * The embedded backend writes one JSON-lines file per step attempt under `<dataDir>/runs/<run>/logs/`, appended as
 * output arrives, so the CLI can tail a run live while its worker writes it.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
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
  /**
   * The records of a run added since `fromOffsets` (all of them without it), in file order per step attempt, and
   * the offsets to pass to the next call. A store may return a bounded batch and set `more` when records are left
   * for the next call, so a reader catching up on a large log keeps its memory bounded.
   */
  read(runId: string, fromOffsets?: Map<string, number>): Promise<LogReadResult>;
}

/** One batch of records from `LogStore.read`. */
export interface LogReadResult {
  records: LogRecord[];
  offsets: Map<string, number>;
  /** True when the store holds more records than this batch returned: call again at once. */
  more?: boolean;
}

/** How many bytes the filesystem store reads per `read` call at most (a larger single line is read whole). */
export const maxLogReadBytes = 4 * 1024 * 1024;

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
      let budget = maxLogReadBytes;
      let more = false;
      for (const name of files.sort()) {
        const file = path.join(dir, name);
        const start = offsets.get(name) ?? 0;
        // Only the bytes written since the last read are read: following a growing log costs what it adds.
        const size = await stat(file).then(
          (info) => info.size,
          () => 0,
        );
        if (size <= start) continue;
        if (budget <= 0) {
          more = true;
          continue;
        }
        const chunk = await readCompleteLines(file, start, Math.min(size - start, budget), size);
        if (chunk.length === 0) continue;
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line) records.push(JSON.parse(line) as LogRecord);
        }
        offsets.set(name, start + chunk.length);
        budget -= chunk.length;
        if (start + chunk.length < size) more = true;
      }
      return { records, offsets, more };
    },
  };
}

/**
 * Reads from `start` up to `length` bytes of a log file and returns them cut after the last complete line; a
 * half-written last line is left for the next read. A single line longer than `length` is read whole.
 */
async function readCompleteLines(file: string, start: number, length: number, size: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    let buffer = Buffer.alloc(length);
    let { bytesRead } = await handle.read(buffer, 0, length, start);
    let end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
    if (end === 0 && bytesRead < size - start) {
      buffer = Buffer.alloc(size - start);
      ({ bytesRead } = await handle.read(buffer, 0, buffer.length, start));
      end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
    }
    return buffer.subarray(0, end);
  } finally {
    await handle.close();
  }
}
