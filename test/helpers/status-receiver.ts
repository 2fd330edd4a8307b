/**
 * A local stand-in for GitHub's and GitLab's commit status APIs: it records every
 * `POST /repos/{owner}/{repo}/statuses/{sha}` (GitHub) and `POST /projects/{id}/statuses/{sha}` (GitLab), with the
 * token it carried, and answers 201 as they do.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** One status call as the provider received it. */
export interface RecordedStatus {
  provider: 'github' | 'gitlab';
  /** `owner/repo` or the (decoded) GitLab project id or path. */
  repository: string;
  sha: string;
  state: string;
  description?: string;
  /** GitHub `context`, GitLab `name`. */
  context?: string;
  targetUrl?: string;
  token?: string;
}

export class StatusReceiver {
  readonly statuses: RecordedStatus[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const url = request.url ?? '';
        const github = /^\/github\/repos\/([^/]+\/[^/]+)\/statuses\/([0-9a-f]{40})$/.exec(url);
        const gitlab = /^\/gitlab\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(url);
        const parsed = JSON.parse(body || '{}') as Record<string, string | undefined>;
        if (request.method === 'POST' && github) {
          this.statuses.push({
            provider: 'github',
            repository: decodeURIComponent(github[1]!),
            sha: github[2]!,
            state: parsed.state ?? '',
            description: parsed.description,
            context: parsed.context,
            targetUrl: parsed.target_url,
            token: request.headers.authorization?.replace(/^Bearer /, ''),
          });
        } else if (request.method === 'POST' && gitlab) {
          this.statuses.push({
            provider: 'gitlab',
            repository: decodeURIComponent(gitlab[1]!),
            sha: gitlab[2]!,
            state: parsed.state ?? '',
            description: parsed.description,
            context: parsed.name,
            targetUrl: parsed.target_url,
            token: request.headers['private-token'] as string | undefined,
          });
        } else {
          response.writeHead(404).end('{"message":"Not Found"}');
          return;
        }
        response.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Statuses for one commit, in arrival order. */
  forCommit(sha: string): RecordedStatus[] {
    return this.statuses.filter((status) => status.sha === sha);
  }

  /** Waits until `predicate` holds for the recorded statuses (generous timeout). */
  async waitFor(predicate: (statuses: RecordedStatus[]) => boolean, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.statuses)) {
      if (Date.now() > deadline) throw new Error(`statuses never matched; got ${JSON.stringify(this.statuses)}`);
      await delay(200);
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
