/**
 * The builtin router (docs/deployments.md#the-builtin-router): a weighted HTTP reverse proxy. Each request picks a
 * track (the tester's `X-Conveyor-Version` header, else its bucket against the weights — a sticky cookie or a fresh
 * random one), then a backend of that track round robin. A new table replaces the old in one assignment, so a
 * request sees either the old weights or the new ones; requests in flight finish on the backend they started on.
 * A refused connection is retried on the track's next backend when the request can be repeated (no body).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  bucketCount,
  emptyRouteTable,
  hashKey,
  pickTrack,
  stickyCookie,
  versionHeader,
  type Backend,
  type RouteTable,
} from '../deploy/route-table';
import type { RouterEngine } from './admin';
import type { Sample, SampleTrack } from './samples';

/** Headers that belong to one connection and are never forwarded (RFC 9110 §7.6.1). */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers))
    if (!hopByHop.has(name) && value !== undefined) out[name] = value;
  return out;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** A request on its way to a backend. */
interface ForwardedRequest {
  started: number;
  track: SampleTrack;
  backends: Backend[];
  setCookie: string | undefined;
  /** No body: it may be sent to another backend when the first refuses the connection. */
  repeatable: boolean;
}

/** The builtin router's engine. */
export class BuiltinRouter implements RouterEngine {
  private table: RouteTable;
  private generation = 0;
  private readonly next: Record<string, number> = { stable: 0, canary: 0, preview: 0 };
  private readonly inFlight = new Map<string, number>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

  constructor(
    private readonly record: (sample: Sample) => void,
    initial: { table: RouteTable; generation: number } = { table: emptyRouteTable, generation: 0 },
  ) {
    this.table = initial.table;
    this.generation = initial.generation;
  }

  async apply(table: RouteTable): Promise<number> {
    this.table = table;
    this.generation += 1;
    return this.generation;
  }

  current() {
    return { table: this.table, generation: this.generation };
  }

  inflight(): Record<string, number> {
    return Object.fromEntries([...this.inFlight].filter(([, count]) => count > 0));
  }

  /** Listens for users on `trafficPort` and, for previews, on `previewPort`. */
  listen(trafficPort: number, previewPort: number): http.Server[] {
    const traffic = http.createServer((req, res) => this.handle(req, res, false));
    const preview = http.createServer((req, res) => this.handle(req, res, true));
    for (const server of [traffic, preview]) {
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
    }
    traffic.listen(trafficPort);
    preview.listen(previewPort);
    return [traffic, preview];
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, preview: boolean): void {
    const started = performance.now();
    // The table is read once per request: a weight change applies atomically between requests.
    const table = this.table;
    let track: SampleTrack = 'none';
    let backends: Backend[] = [];
    let setCookie: string | undefined;
    if (preview) {
      track = 'preview';
      backends = table.preview;
    } else {
      let bucket: number;
      const cookie = table.sticky ? cookieValue(req.headers.cookie, stickyCookie) : undefined;
      if (cookie) {
        bucket = hashKey(cookie) % bucketCount;
      } else if (table.sticky) {
        const token = randomBytes(8).toString('hex');
        bucket = hashKey(token) % bucketCount;
        setCookie = `${stickyCookie}=${token}; Path=/; HttpOnly; SameSite=Lax`;
      } else {
        bucket = Math.floor(Math.random() * bucketCount);
      }
      const forced = req.headers[versionHeader];
      const picked = pickTrack(table, bucket, typeof forced === 'string' ? forced.toLowerCase() : undefined);
      if (picked) {
        track = picked;
        backends = table[picked].backends;
      }
    }
    if (backends.length === 0) {
      this.finish(res, started, track, undefined, 503, 'conveyor router: no backends\n');
      return;
    }
    const first = this.next[track] ?? 0;
    this.next[track] = (first + 1) % backends.length;
    const repeatable =
      (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') &&
      !req.headers['content-length'] &&
      !req.headers['transfer-encoding'];
    this.forward(
      req,
      res,
      { started, track, backends, setCookie, repeatable },
      first,
      repeatable ? backends.length : 1,
    );
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    request: ForwardedRequest,
    index: number,
    attemptsLeft: number,
  ): void {
    const { started, track, backends, setCookie } = request;
    const backend = backends[index % backends.length]!;
    const [host, port] = backend.address.split(':');
    const headers = forwardable(req.headers);
    const client = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for']
      ? `${req.headers['x-forwarded-for']}, ${client}`
      : client;
    headers['x-forwarded-proto'] = 'http';
    this.inFlight.set(backend.name, (this.inFlight.get(backend.name) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.inFlight.set(backend.name, (this.inFlight.get(backend.name) ?? 1) - 1);
    };
    const upstream = http.request(
      { host, port: Number(port), method: req.method, path: req.url, headers, agent: this.agent, timeout: 60_000 },
      (answer) => {
        const out = forwardable(answer.headers);
        if (setCookie) {
          const existing = out['set-cookie'];
          out['set-cookie'] = [...(Array.isArray(existing) ? existing : existing ? [String(existing)] : []), setCookie];
        }
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        res.once('close', () => {
          release();
          this.record({
            t: Date.now(),
            track,
            version: backend.version,
            backend: backend.name,
            status: answer.statusCode ?? 502,
            latencyMs: performance.now() - started,
          });
        });
      },
    );
    upstream.once('timeout', () => upstream.destroy(new Error('the backend did not answer within 60 s')));
    upstream.once('error', (error: NodeJS.ErrnoException) => {
      release();
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      const refused = error.code === 'ECONNREFUSED' || error.code === 'EHOSTUNREACH' || error.code === 'ECONNRESET';
      if (refused && attemptsLeft > 1) {
        this.forward(req, res, request, index + 1, attemptsLeft - 1);
        return;
      }
      this.finish(
        res,
        started,
        track,
        backend,
        502,
        `conveyor router: ${backend.name} failed (${error.code ?? error.message})\n`,
      );
    });
    // A request without a body is sent as is (and can be sent again); one with a body streams through once.
    if (request.repeatable) upstream.end();
    else req.pipe(upstream);
  }

  private finish(
    res: http.ServerResponse,
    started: number,
    track: SampleTrack,
    backend: Backend | undefined,
    status: number,
    message: string,
  ): void {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(message);
    this.record({
      t: Date.now(),
      track,
      version: backend?.version ?? '',
      backend: backend?.name ?? '',
      status,
      latencyMs: performance.now() - started,
    });
  }
}
