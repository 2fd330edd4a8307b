/**
 * A local server speaking the OpenAI chat-completions protocol (`POST /v1/chat/completions`, Bearer auth, the answer
 * in `choices[0].message.content`), for the investigations' optional LLM narrative (docs/investigations.md). It
 * records every request and answers by its current `mode`: a JSON narrative, a 500, no answer at all (a timeout),
 * or a body that is not JSON.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the server answers. */
export type ChatServerMode = 'answer' | 'error500' | 'hang' | 'garbage';

/** One request as received. */
export interface ChatRequest {
  method: string;
  path: string;
  authorization?: string;
  body: string;
}

/** A running server: its base URL (`…/v1`), the requests it saw, and the mode it answers in. */
export interface ChatServer {
  url: string;
  requests: ChatRequest[];
  mode: ChatServerMode;
  /** The `content` an `answer` carries (default: a narrative with one untested and one catalogue hypothesis). */
  content: string;
  close(): Promise<void>;
}

/** The narrative the server answers with by default. */
export const defaultNarrative = {
  summary: 'The build step exited 1 right after the compiler reported a missing symbol; look at the last commit.',
  hypotheses: [
    { cause: 'stale_build_cache', description: 'A cached object file from an older toolchain.' },
    { cause: 'oom', description: 'The compiler may have run out of memory.' },
  ],
};

/** Starts the server on a free port of 127.0.0.1. */
export async function startChatServer(): Promise<ChatServer> {
  const hanging = new Set<ServerResponse>();
  const state: ChatServer = {
    url: '',
    requests: [],
    mode: 'answer',
    content: JSON.stringify(defaultNarrative),
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        authorization: request.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      switch (state.mode) {
        case 'error500':
          response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"overloaded"}}');
          return;
        case 'hang':
          hanging.add(response);
          response.on('close', () => hanging.delete(response));
          return;
        case 'garbage':
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [{"message": {"con');
          return;
        case 'answer': {
          const model = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string }).model;
          response.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              id: 'chatcmpl-test',
              object: 'chat.completion',
              model,
              choices: [{ index: 0, message: { role: 'assistant', content: state.content }, finish_reason: 'stop' }],
            }),
          );
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return state;
}
