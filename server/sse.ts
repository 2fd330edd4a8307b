/**
 * Server-sent events: a response that stays open and carries `event:`/`data:` frames (the browser's EventSource
 * reconnects by itself and sends the last `id:` it saw as `Last-Event-ID`). A comment line every 15 s keeps proxies
 * from closing an idle stream.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** An open event stream. */
export interface EventStream {
  /** Sends one event; `data` is sent as JSON. */
  send(event: string, data: unknown, id?: string): void;
  /** Ends the stream. */
  close(): void;
  /** True once the client went away or the stream was closed. */
  readonly closed: boolean;
  /** Resolves when the client goes away or the stream is closed. */
  readonly done: Promise<void>;
}

/** Takes over the response and opens an event stream on it. */
export function openEventStream(request: FastifyRequest, reply: FastifyReply): EventStream {
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  response.write('retry: 2000\n\n');
  let closed = false;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), 15_000);
  heartbeat.unref();
  const end = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    finish();
  };
  request.raw.once('close', end);
  response.once('close', end);
  return {
    send(event, data, id) {
      if (closed) return;
      const idLine = id ? `id: ${id}\n` : '';
      response.write(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (!closed) response.end();
      end();
    },
    get closed() {
      return closed;
    },
    done,
  };
}
