/**
 * Splitting one uncompressed tar stream into several, at entry boundaries, so several `tar` processes can extract
 * one source tree at once (docs/benchmarks.md, "Source checkout: overlay workspaces"): creating a file is a
 * synchronous round trip to the filesystem, so one process creating ten thousand of them waits on each in turn.
 * Raw 512-byte blocks are passed through untouched (nothing is re-packed): directories and global headers go to
 * every part (each process may need a directory first; creating an existing one is harmless), every other entry —
 * with the extended headers in front of it — to one part, a hard link to the part that has its target. The safety of
 * the entries is not judged here: the caller checks the same bytes (`inspectArchive`) before anything is visible.
 */
import { PassThrough, type Readable } from 'node:stream';

const block = 512;

/** One entry's blocks on their way to a part: its headers (extended ones first) and its data. */
interface PendingEntry {
  /** Bytes of data (padded to blocks) still to come for this entry. */
  remaining: number;
  part: number | 'all';
}

/** Splits `source` into `ways` tar streams; each ends with its own end-of-archive marker. */
export function splitTar(source: Readable, ways: number): Readable[] {
  const parts = Array.from({ length: ways }, () => new PassThrough({ highWaterMark: 256 * 1024 }));
  const partOf = new Map<string, number>();
  let next = 0;
  let buffered: Buffer = Buffer.alloc(0);
  let entry: PendingEntry | undefined;
  // Extended headers waiting for the entry they describe, and the names they give it.
  let prefix: Buffer[] = [];
  let longName: string | undefined;
  let longLink: string | undefined;
  let ended = false;

  // A part whose extraction failed is destroyed: it takes nothing more (the caller reports its failure).
  const write = (stream: PassThrough, chunk: Buffer) => stream.destroyed || stream.write(chunk);
  const send = (part: number | 'all', chunk: Buffer): boolean => {
    if (part === 'all') return parts.map((stream) => write(stream, chunk)).every(Boolean);
    return write(parts[part]!, chunk);
  };

  /** Consumes whole blocks of `buffered`; returns whether every part still wants more. */
  const consume = (): boolean => {
    let flowing = true;
    while (!ended && buffered.length >= block) {
      if (entry && entry.remaining > 0) {
        const take = Math.min(entry.remaining, buffered.length - (buffered.length % block));
        flowing = send(entry.part, buffered.subarray(0, take)) && flowing;
        buffered = buffered.subarray(take);
        entry.remaining -= take;
        continue;
      }
      const header = buffered.subarray(0, block);
      buffered = buffered.subarray(block);
      if (header.every((byte) => byte === 0)) {
        ended = true;
        break;
      }
      const type = String.fromCharCode(header[156]!);
      const size = headerSize(header);
      const padded = Math.ceil(size / block) * block;
      if (type === 'x' || type === 'L' || type === 'K') {
        // Its data is needed to know the entry's name: held until the entry's own header.
        if (buffered.length < padded) {
          buffered = Buffer.concat([header, buffered]);
          break;
        }
        const data = buffered.subarray(0, padded);
        buffered = buffered.subarray(padded);
        const text = data.subarray(0, size).toString('utf8');
        if (type === 'L') longName = text.replace(/\0+$/, '');
        else if (type === 'K') longLink = text.replace(/\0+$/, '');
        else {
          longName = paxValue(text, 'path') ?? longName;
          longLink = paxValue(text, 'linkpath') ?? longLink;
        }
        prefix.push(Buffer.from(header), Buffer.from(data));
        continue;
      }
      const name = normalise(longName ?? headerName(header));
      let part: number | 'all';
      if (type === '5' || type === 'g') part = 'all';
      else if (type === '1') part = partOf.get(normalise(longLink ?? field(header, 157, 100))) ?? 0;
      else {
        part = next;
        next = (next + 1) % ways;
        partOf.set(name, part);
      }
      flowing = send(part, Buffer.concat([...prefix, header])) && flowing;
      prefix = [];
      longName = undefined;
      longLink = undefined;
      entry = { remaining: padded, part };
    }
    return flowing;
  };

  const finish = (error?: Error) => {
    for (const stream of parts) {
      if (stream.destroyed) continue;
      if (error) stream.destroy(error);
      else stream.end(Buffer.alloc(block * 2));
    }
  };

  source.on('data', (chunk: Buffer) => {
    if (ended) return;
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (!consume()) {
      // The slowest extraction sets the pace.
      source.pause();
      const full = parts.filter((stream) => !stream.destroyed && stream.writableNeedDrain);
      let waiting = full.length;
      for (const stream of full) {
        const drained = () => {
          stream.off('drain', drained);
          stream.off('close', drained);
          waiting -= 1;
          if (waiting === 0) source.resume();
        };
        stream.on('drain', drained);
        stream.on('close', drained);
      }
      if (waiting === 0) source.resume();
    }
  });
  source.once('end', () => finish(ended || buffered.length === 0 ? undefined : new Error('truncated tar archive')));
  source.once('error', (error) => finish(error));
  return parts;
}

function headerSize(header: Buffer): number {
  const raw = header.subarray(124, 136);
  if ((raw[0]! & 0x80) !== 0) {
    // Base-256 (GNU) for sizes of 8 GiB and more.
    let value = 0;
    for (let index = 1; index < raw.length; index += 1) value = value * 256 + raw[index]!;
    return value;
  }
  const text = raw
    .toString('ascii')
    .replace(/[\0 ]+$/, '')
    .trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function headerName(header: Buffer): string {
  const name = field(header, 0, 100);
  // ustar: a prefix (offset 345) for long paths.
  const magic = field(header, 257, 6);
  const prefix = magic.startsWith('ustar') ? field(header, 345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function paxValue(records: string, key: string): string | undefined {
  for (const record of records.split('\n')) {
    const space = record.indexOf(' ');
    const body = space === -1 ? '' : record.slice(space + 1);
    if (body.startsWith(`${key}=`)) return body.slice(key.length + 1);
  }
  return undefined;
}

function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}
