/**
 * The router's admin API, the same for both router kinds (docs/deployments.md#traffic-routers). Only the worker
 * talks to it, through a port published on 127.0.0.1:
 *
 * - `GET /healthz` — the router runs;
 * - `GET /routes` — the table served now, its generation, and requests in flight per backend;
 * - `PUT /routes` — serve a new table; answers once it is live (`{"generation": n}`), or 422 with the reason, the
 *   live table unchanged;
 * - `GET /samples?from=MS&to=MS` — the requests that finished in a window (for analysis);
 * - `GET /metrics` — Prometheus metrics.
 */
import http from 'node:http';
import { checkRouteTable, type RouteTable } from '../deploy/route-table';
import type { RouterMetrics } from './metrics';
import type { SampleRing } from './samples';

/** What a router kind provides to the admin API. */
export interface RouterEngine {
  /** Serves `table`; resolves with the new generation once it is live, rejects (nothing changed) when it cannot. */
  apply(table: RouteTable): Promise<number>;
  /** The table served now and its generation. */
  current(): { table: RouteTable; generation: number };
  /** Requests in flight per backend name (nginx: old worker processes still finishing, under `draining`). */
  inflight(): Record<string, number>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the admin server on `port`. Route changes are applied one at a time, in the order they arrive. */
export function startAdminServer(
  port: number,
  engine: RouterEngine,
  samples: SampleRing,
  metrics: RouterMetrics,
): http.Server {
  let applying: Promise<unknown> = Promise.resolve();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const handle = async () => {
      if (url.pathname === '/healthz') return send(res, 200, 'ok\n');
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        return res.end(await metrics.registry.metrics());
      }
      if (url.pathname === '/samples') {
        const from = Number(url.searchParams.get('from') ?? 0);
        const to = Number(url.searchParams.get('to') ?? Date.now() + 1);
        return send(res, 200, samples.window(from, to));
      }
      if (url.pathname === '/routes' && req.method === 'GET') {
        return send(res, 200, { ...engine.current(), inflight: engine.inflight() });
      }
      if (url.pathname === '/routes' && req.method === 'PUT') {
        let table: RouteTable;
        try {
          table = JSON.parse(await readBody(req)) as RouteTable;
        } catch {
          return send(res, 400, { error: 'the body is not JSON' });
        }
        const problem = checkRouteTable(table);
        if (problem) return send(res, 422, { error: problem });
        const applied = applying.then(() => engine.apply(table));
        applying = applied.catch(() => undefined);
        try {
          const generation = await applied;
          metrics.applied(table, generation);
          return send(res, 200, { generation });
        } catch (error) {
          return send(res, 422, { error: (error as Error).message });
        }
      }
      return send(res, 404, { error: `no ${req.method} ${url.pathname}` });
    };
    handle().catch((error: unknown) => send(res, 500, { error: (error as Error).message }));
  });
  server.listen(port);
  return server;
}
