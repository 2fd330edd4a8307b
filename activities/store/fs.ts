/**
 * The `fs` artifact store: a directory (default `.conveyor/store`) for single-host installs without MinIO
 * (`CONVEYOR_STORE=fs`). Layout as in store.ts. Content is written to `tmp/`, hashed while it is written, then
 * published with `link(2)`, which is atomic and never replaces an existing object, so a digest only ever names its
 * own bytes; records are written to `tmp/` and renamed into place.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HashingStream, ioBlockSize, scratchPath, sweepScratch } from './scratch';
import {
  checkRecordKey,
  contentKey,
  ContentDigestMismatchError,
  ContentNotFoundError,
  isHexDigest,
  retiredKey,
  type ArtifactStore,
  type ContentInfo,
  type RecordInfo,
} from './store';

/** Creates a store in directory `root` (created on first write). */
export function createFsStore(root: string): ArtifactStore {
  const tmpDir = path.join(root, 'tmp');
  const contentPath = (digest: string) => path.join(root, contentKey(digest));
  const recordPath = (key: string) => path.join(root, checkRecordKey(key));

  return {
    kind: 'fs',
    location: root,

    async putContent(source, options = {}) {
      const temp = await scratchPath(tmpDir);
      options.onTemporary?.({ kind: 'file', path: temp });
      const hasher = new HashingStream(options.onProgress);
      try {
        const out = createWriteStream(temp, { flags: 'wx', highWaterMark: ioBlockSize });
        await pipeline(source, hasher, out, { signal: options.signal });
        const digest = hasher.digest();
        const size = hasher.bytes;
        if (options.expectedDigest && digest !== options.expectedDigest) {
          throw new ContentDigestMismatchError(options.expectedDigest, digest);
        }
        await options.onDigest?.(digest, size);
        // Verify what reached the disk before publishing it.
        const written = await stat(temp);
        if (written.size !== size) throw new Error(`short write to ${temp}: ${written.size} of ${size} bytes`);
        const final = contentPath(digest);
        if (await exists(final)) return { digest, size, bytesWritten: 0, deduplicated: true };
        await options.beforePublish?.(digest, size);
        await mkdir(path.dirname(final), { recursive: true });
        await chmod(temp, 0o444);
        try {
          await link(temp, final);
        } catch (error) {
          // Another upload of the same content published first: theirs is byte-identical.
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
            return { digest, size, bytesWritten: 0, deduplicated: true };
          }
          throw error;
        }
        return { digest, size, bytesWritten: size, deduplicated: false };
      } finally {
        await rm(temp, { force: true });
      }
    },

    async getContent(digest) {
      if (!isHexDigest(digest)) throw new ContentNotFoundError(digest);
      let handle;
      try {
        handle = await open(contentPath(digest), 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ContentNotFoundError(digest);
        throw error;
      }
      return createReadStream('', { fd: handle, highWaterMark: ioBlockSize });
    },

    async statContent(digest) {
      if (!isHexDigest(digest)) return undefined;
      const info = await stat(contentPath(digest)).catch(() => undefined);
      return info ? { digest, size: info.size, modifiedAt: info.mtime.toISOString() } : undefined;
    },

    async deleteContent(digest) {
      if (!isHexDigest(digest)) return false;
      const file = contentPath(digest);
      if (!(await exists(file))) return false;
      await rm(file, { force: true });
      // Directories left empty go too (ART-019); a concurrent publish into them simply recreates them.
      await removeEmptyParents(path.dirname(file), path.join(root, 'cas'));
      return true;
    },

    async *listContent(): AsyncIterable<ContentInfo> {
      const base = path.join(root, 'cas', 'sha256');
      for (const first of await sortedNames(base)) {
        for (const second of await sortedNames(path.join(base, first))) {
          for (const name of await sortedNames(path.join(base, first, second))) {
            if (!isHexDigest(name)) continue;
            const info = await stat(path.join(base, first, second, name)).catch(() => undefined);
            if (info) yield { digest: name, size: info.size, modifiedAt: info.mtime.toISOString() };
          }
        }
      }
    },

    async retireContent(digest) {
      if (!isHexDigest(digest)) return false;
      const file = contentPath(digest);
      const retired = path.join(root, retiredKey(digest));
      await mkdir(path.dirname(retired), { recursive: true });
      try {
        await rename(file, retired);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
      await removeEmptyParents(path.dirname(file), path.join(root, 'cas'));
      return true;
    },

    async reinstateContent(digest) {
      if (!isHexDigest(digest)) return false;
      const retired = path.join(root, retiredKey(digest));
      if (!(await exists(retired))) return false;
      const file = contentPath(digest);
      await mkdir(path.dirname(file), { recursive: true });
      try {
        await link(retired, file);
      } catch (error) {
        // Published again meanwhile: the same bytes are already back.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      await rm(retired, { force: true });
      return true;
    },

    async purgeRetired(digest) {
      if (!isHexDigest(digest)) return false;
      const retired = path.join(root, retiredKey(digest));
      if (!(await exists(retired))) return false;
      await rm(retired, { force: true });
      return true;
    },

    async *listRetired(): AsyncIterable<ContentInfo> {
      const dir = path.join(root, 'trash', 'sha256');
      for (const name of await sortedNames(dir)) {
        if (!isHexDigest(name)) continue;
        const info = await stat(path.join(dir, name)).catch(() => undefined);
        if (info) yield { digest: name, size: info.size, modifiedAt: info.mtime.toISOString() };
      }
    },

    localContentPath: contentPath,

    async putRecord(key, value) {
      const file = recordPath(key);
      const temp = await scratchPath(tmpDir, 'json');
      try {
        await writeFile(temp, JSON.stringify(value));
        await mkdir(path.dirname(file), { recursive: true });
        await rename(temp, file);
      } finally {
        await rm(temp, { force: true });
      }
    },

    async getRecord<T>(key: string): Promise<T | undefined> {
      try {
        return JSON.parse(await readFile(recordPath(key), 'utf8')) as T;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },

    async deleteRecord(key) {
      const file = recordPath(key);
      if (!(await exists(file))) return false;
      await rm(file, { force: true });
      await removeEmptyParents(path.dirname(file), path.join(root, key.split('/')[0]!));
      return true;
    },

    async *listRecords(prefix): AsyncIterable<RecordInfo> {
      // Walk from the deepest directory the prefix names, then filter on the rest of it.
      const slash = prefix.lastIndexOf('/');
      const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
      const start = dirKey ? path.join(root, checkRecordKey(dirKey)) : root;
      const keys: string[] = [];
      for await (const key of walkKeys(start, dirKey)) {
        if (key.startsWith(prefix) && !key.startsWith('tmp/')) keys.push(key);
      }
      // Plain string order, as S3 lists keys (a directory walk would put `a/x` before `a-b/y`).
      keys.sort();
      for (const key of keys) {
        const info = await stat(path.join(root, key)).catch(() => undefined);
        if (info) yield { key, size: info.size, modifiedAt: info.mtime.toISOString() };
      }
    },

    async removeTemporary(temporary) {
      if (temporary.kind === 'file') await rm(temporary.path, { force: true });
    },

    sweepTemporaries: (olderThan) => sweepScratch(tmpDir, olderThan),
  };
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}

async function sortedNames(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.sort();
}

/** Every file under `dir` as a store key (`prefix/…`). */
async function* walkKeys(dir: string, prefix: string): AsyncIterable<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const key = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) yield* walkKeys(path.join(dir, entry.name), key);
    else if (entry.isFile()) yield key;
  }
}

async function removeEmptyParents(dir: string, stopAt: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stopAt) && current !== stopAt) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty (or already gone)
    }
    current = path.dirname(current);
  }
}
