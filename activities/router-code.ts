/**
 * The traffic router's code as it goes into its container: `router/main.ts` and what it imports, bundled by esbuild
 * into one CommonJS file for the container's Node.js (18), packed as a tar for Docker's archive API. Routers need no
 * image of their own: `conveyor/node:18` or `conveyor/nginx` plus this file.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { pack } from 'tar-stream';

/** Where the bundle lives inside a router container. */
export const routerScriptPath = '/opt/conveyor-router/router.js';

let bundled: { code: string; hash: string } | undefined;

/** The bundled router (built once per process) and a short hash of it. */
export function routerBundle(): { code: string; hash: string } {
  if (!bundled) {
    // From the sources when run with tsx (activities/), or from the compiled worker's (dist/activities/).
    const entry = [path.resolve(__dirname, '../router/main.ts'), path.resolve(__dirname, '../../router/main.ts')].find(
      (candidate) => existsSync(candidate),
    );
    if (!entry) throw new Error(`the router's sources (router/main.ts) are not beside ${__dirname}`);
    const result = buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      target: 'node18',
      format: 'cjs',
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.text;
    bundled = { code, hash: createHash('sha256').update(code).digest('hex').slice(0, 12) };
  }
  return bundled;
}

/** A tar archive holding the bundle at {@link routerScriptPath}, relative to `/`. */
export async function routerArchive(): Promise<Buffer> {
  const archive = pack();
  const { code } = routerBundle();
  archive.entry({ name: routerScriptPath.slice(1), mode: 0o644 }, code);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
