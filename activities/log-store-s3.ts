/**
 * The S3 log store (docs/artifacts.md): when artifacts live in S3, step logs do too, so a CLI or a worker on
 * another host that shares nothing but Temporal and the bucket sees the same output.
 *
 * Each step attempt's records go to numbered chunk objects, `logs/<run>/<job>.<step>.<attempt>/<seq>.jsonl`, in the
 * fs store's record format (one JSON object per line). A writer flushes its buffer at least every second, one chunk
 * at a time so chunks appear in order; a failed flush keeps the lines for the next one. A writer that replaces a
 * crashed one continues after the last chunk. Readers list the run's chunks and read those after the last one they
 * consumed per stream (the offsets map holds, per stream, the last chunk number read).
 */
import type { Client as MinioClient } from 'minio';
import { maxLogReadBytes, resumePointOf, type LogRecord, type LogStore, type LogWriter } from './log-store';
import { slug } from './names';

/** Options of the S3 log store. */
export interface S3LogStoreOptions {
  client: MinioClient;
  bucket: string;
  /** Most time between a line being written and its chunk being flushed, in ms (default 1000). */
  flushMs?: number;
  /** Flush early once this many bytes are buffered (default 1 MiB). */
  maxChunkBytes?: number;
  /**
   * A writer's first chunk goes out this soon after its first line, in ms (default 20, enough for the lines of one
   * read from the container to share it): a step's first line is what a user waits for after `conveyor run`; later
   * chunks keep the `flushMs` pace.
   */
  firstFlushMs?: number;
}

const chunkPattern = /^(\d{10})\.jsonl$/;

/** Creates a log store in `bucket` under `logs/`. */
export function createS3LogStore(options: S3LogStoreOptions): LogStore {
  const { client, bucket } = options;
  const flushMs = options.flushMs ?? 1000;
  const maxChunkBytes = options.maxChunkBytes ?? 1024 * 1024;
  const firstFlushMs = options.firstFlushMs ?? 20;
  const runPrefix = (runId: string) => `logs/${slug(runId)}/`;

  async function* listChunks(runId: string): AsyncIterable<{ stream: string; seq: number; key: string }> {
    const prefix = runPrefix(runId);
    for await (const item of client.listObjectsV2(bucket, prefix, true)) {
      const name = (item as { name?: string }).name;
      if (!name) continue;
      const [stream, file] = name.slice(prefix.length).split('/');
      const match = file ? chunkPattern.exec(file) : null;
      if (stream && match) yield { stream, seq: Number(match[1]), key: name };
    }
  }

  async function readChunk(key: string): Promise<{ records: LogRecord[]; bytes: number }> {
    const chunks: Buffer[] = [];
    for await (const chunk of await client.getObject(bucket, key)) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const records = body
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogRecord);
    return { records, bytes: body.length };
  }

  const streamPrefix = (runId: string, job: string, step: string, attempt: number) =>
    `${runPrefix(runId)}${slug(job)}.${slug(step)}.${attempt}/`;
  // Outcomes are one object per step attempt under `outcomes/`, which readers skip (no chunk names there).
  const outcomeKey = (runId: string, key: string) => `${runPrefix(runId)}outcomes/${slug(key)}.json`;

  return {
    async writer(runId, job, step, attempt): Promise<LogWriter> {
      const prefix = streamPrefix(runId, job, step, attempt);
      // A writer replacing a crashed one (the step's activity retried) continues after its last chunk.
      let seq = 0;
      for await (const item of client.listObjectsV2(bucket, prefix, true)) {
        const match = chunkPattern.exec(((item as { name?: string }).name ?? '').slice(prefix.length));
        if (match) seq = Math.max(seq, Number(match[1]) + 1);
      }
      let buffer: string[] = [];
      let bufferedBytes = 0;
      let flushing: Promise<void> = Promise.resolve();
      let lastError: unknown;

      const flush = (): Promise<void> => {
        flushing = flushing.then(async () => {
          if (buffer.length === 0) return;
          const lines = buffer;
          buffer = [];
          bufferedBytes = 0;
          const body = Buffer.from(lines.join(''));
          try {
            await client.putObject(bucket, `${prefix}${String(seq).padStart(10, '0')}.jsonl`, body, body.length, {
              'Content-Type': 'application/x-ndjson',
            });
            seq += 1;
            lastError = undefined;
          } catch (error) {
            // Keep the lines, in order, for the next flush.
            buffer = [...lines, ...buffer];
            bufferedBytes += body.length;
            lastError = error;
          }
        });
        return flushing;
      };
      const timer = setInterval(() => void flush(), flushMs);
      timer.unref();
      let firstFlush: NodeJS.Timeout | undefined;

      return {
        write(record) {
          const line = `${JSON.stringify({ ts: new Date().toISOString(), ...record })}\n`;
          buffer.push(line);
          bufferedBytes += line.length;
          if (bufferedBytes >= maxChunkBytes) void flush();
          else if (!firstFlush) {
            firstFlush = setTimeout(() => void flush(), firstFlushMs);
            firstFlush.unref();
          }
        },
        async close() {
          clearInterval(timer);
          clearTimeout(firstFlush);
          // The store may be briefly unreachable: a few more tries before the lines are given up.
          for (let tries = 0; tries < 5; tries += 1) {
            await flush();
            if (buffer.length === 0) return;
            await new Promise((resolve) => setTimeout(resolve, 500 * (tries + 1)));
          }
          throw new Error(`could not store ${buffer.length} log line(s) of ${job}/${step}: ${String(lastError)}`);
        },
      };
    },

    async read(runId, fromOffsets = new Map()) {
      const offsets = new Map(fromOffsets);
      const fresh: { stream: string; seq: number; key: string }[] = [];
      for await (const chunk of listChunks(runId)) {
        if (chunk.seq > (offsets.get(chunk.stream) ?? -1)) fresh.push(chunk);
      }
      // Streams in name order, chunks in number order: the order the fs store reads its files in.
      fresh.sort((a, b) => (a.stream === b.stream ? a.seq - b.seq : a.stream < b.stream ? -1 : 1));
      const records: LogRecord[] = [];
      let bytes = 0;
      for (const chunk of fresh) {
        // Chunks of a stream are written one after the other; stop at a gap rather than skip a late one.
        if (chunk.seq !== (offsets.get(chunk.stream) ?? -1) + 1) continue;
        // A reader catching up on a large log gets it in batches of bounded size (`more`: call again).
        if (bytes >= maxLogReadBytes) return { records, offsets, more: true };
        const read = await readChunk(chunk.key);
        records.push(...read.records);
        bytes += read.bytes;
        offsets.set(chunk.stream, chunk.seq);
      }
      return { records, offsets };
    },

    async resumePoint(runId, job, step, attempt) {
      const prefix = streamPrefix(runId, job, step, attempt);
      let last: { seq: number; key: string } | undefined;
      for await (const item of client.listObjectsV2(bucket, prefix, true)) {
        const name = (item as { name?: string }).name ?? '';
        const match = chunkPattern.exec(name.slice(prefix.length));
        if (match && (!last || Number(match[1]) > last.seq)) last = { seq: Number(match[1]), key: name };
      }
      // Lines sharing the last timestamp across a chunk boundary are not counted: Docker stamps each line apart.
      return last ? resumePointOf((await readChunk(last.key)).records) : undefined;
    },

    async saveOutcome(runId, key, outcome) {
      const body = Buffer.from(JSON.stringify(outcome));
      await client.putObject(bucket, outcomeKey(runId, key), body, body.length, {
        'Content-Type': 'application/json',
      });
    },

    async loadOutcome(runId, key) {
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of await client.getObject(bucket, outcomeKey(runId, key))) chunks.push(chunk as Buffer);
        return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      } catch (error) {
        if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
        throw error;
      }
    },
  };
}
