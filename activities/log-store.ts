/**
 * The log store: every line a step prints, kept as a record apart from Temporal (docs/runs.md), and the durable
 * record of how each step attempt ended (docs/architecture.md, "Crash adoption").
 *
 * The embedded backend writes one JSON-lines file per step attempt under `<dataDir>/runs/<run>/logs/`, appended as
 * output arrives, so the CLI can tail a run live while its worker writes it.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { slug } from './names';

/** One line of output. */
export interface LogRecord {
  /**
   * When the line was printed: Docker's own timestamp of it (RFC 3339 with nine fractional digits, so timestamps
   * compare as text), or the time the worker received it for records written without one.
   */
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
  /** Stores a line; `ts` is when it was printed (default: now). */
  write(record: Omit<LogRecord, 'ts'> & { ts?: string }): void;
  close(): Promise<void>;
}

/** Where a step attempt's stored output ends: the last line's timestamp and how many stored lines share it. */
export interface LogResumePoint {
  ts: string;
  count: number;
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
  /** Where the stored output of a step attempt ends, so an adopting attempt stores each line once. */
  resumePoint(runId: string, job: string, step: string, attempt: number): Promise<LogResumePoint | undefined>;
  /**
   * Records how a step attempt ended (`key`: its container's name), before its container is removed, so a retried
   * activity whose first attempt finished returns that outcome instead of running the script again.
   */
  saveOutcome(runId: string, key: string, outcome: unknown): Promise<void>;
  /** The outcome recorded under `key`, if any. */
  loadOutcome(runId: string, key: string): Promise<unknown>;
}

/** The resume point of records in file order: the last timestamp and how many records at the end carry it. */
export function resumePointOf(records: readonly Pick<LogRecord, 'ts'>[]): LogResumePoint | undefined {
  const last = records.at(-1);
  if (!last) return undefined;
  let count = 0;
  for (let index = records.length - 1; index >= 0 && records[index]!.ts === last.ts; index -= 1) count += 1;
  return { ts: last.ts, count };
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
  const logFile = (runId: string, job: string, step: string, attempt: number) =>
    path.join(runDir(runId), `${slug(job)}.${slug(step)}.${attempt}.jsonl`);
  // Outcomes live beside the logs, not among them: readers take every file in logs/ for records.
  const outcomeFile = (runId: string, key: string) => path.join(root, slug(runId), 'outcomes', `${slug(key)}.json`);
  return {
    async writer(runId, job, step, attempt) {
      await mkdir(runDir(runId), { recursive: true });
      const file = logFile(runId, job, step, attempt);
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
    async resumePoint(runId, job, step, attempt) {
      return resumePointOf(await readTailRecords(logFile(runId, job, step, attempt)));
    },
    async saveOutcome(runId, key, outcome) {
      const file = outcomeFile(runId, key);
      await mkdir(path.dirname(file), { recursive: true });
      // Written aside and renamed: a reader never sees half a record.
      await writeFile(`${file}.tmp`, JSON.stringify(outcome));
      await rename(`${file}.tmp`, file);
    },
    async loadOutcome(runId, key) {
      try {
        return JSON.parse(await readFile(outcomeFile(runId, key), 'utf8')) as unknown;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}

/** The complete records at the end of a log file (enough of them to find the resume point); none if it is absent. */
async function readTailRecords(file: string): Promise<LogRecord[]> {
  const size = await stat(file).then(
    (info) => info.size,
    () => 0,
  );
  for (let window = 64 * 1024; ; window *= 4) {
    const start = Math.max(0, size - window);
    const chunk = await readCompleteLines(file, start, size - start, size);
    const lines = chunk.toString('utf8').split('\n').filter(Boolean);
    // The first line of a window that starts mid-file may be cut; it is dropped unless the window is the file.
    const whole = start === 0 ? lines : lines.slice(1);
    const records = whole.map((line) => JSON.parse(line) as LogRecord);
    const point = resumePointOf(records);
    if (start === 0 || (point && point.count < records.length)) return records;
  }
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
