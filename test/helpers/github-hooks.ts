/**
 * GitHub webhook deliveries the way GitHub sends them (docs/triggers.md): a push of real git commits to a bare
 * repository, the push payload describing it, and a delivery signed with `X-Hub-Signature-256`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  commitFiles,
  createBareRepository,
  createWorkTree,
  git,
  scratchDir,
  startGitDaemon,
  type GitDaemon,
} from './git';
import { startTestServer, type TestServer } from './server';
import { StatusReceiver } from './status-receiver';
import { terminateOpenWorkflows } from './temporal';

/** A branch moving from `before` to `after`. */
export interface PushedChange {
  before: string;
  after: string;
}

/** Commits `files` in `work` on `branch` and force-pushes it to the bare repository `bare`. */
export async function pushCommit(
  work: string,
  bare: string,
  branch: string,
  files: Record<string, string>,
  message: string,
): Promise<PushedChange> {
  const previous = await git(bare, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`).catch(() =>
    '0'.repeat(40),
  );
  await git(work, 'checkout', '--quiet', '-B', branch);
  const after = await commitFiles(work, files, message);
  await git(work, 'push', '--quiet', '--force', bare, `HEAD:refs/heads/${branch}`);
  return { before: previous || '0'.repeat(40), after };
}

/** GitHub's `push` payload for `change` on `branch` of acme/app. */
export function githubPushPayload(change: PushedChange, branch: string) {
  return {
    ref: `refs/heads/${branch}`,
    before: change.before,
    after: change.after,
    repository: { full_name: 'acme/app', clone_url: 'https://github.invalid/acme/app.git', default_branch: 'main' },
    head_commit: {
      id: change.after,
      message: 'A change',
      author: { name: 'Dana Developer', email: 'dana@example.com' },
    },
    pusher: { name: 'dana' },
  };
}

/** The server's answer to a delivery. */
export interface HookAnswer {
  status: number;
  body: Record<string, unknown> & { started?: Array<{ runId: string }> };
}

/** Delivers `payload` as GitHub event `event` to `serverUrl`/hooks/github, signed with `secret`. */
export async function sendGithubHook(
  serverUrl: string,
  secret: string,
  event: string,
  payload: unknown,
  options: { delivery?: string; raw?: string } = {},
): Promise<HookAnswer> {
  const body = options.raw ?? JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const response = await fetch(`${serverUrl}/hooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.delivery ?? randomUUID(),
      'x-hub-signature-256': signature,
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as never };
}

/** A repository served by `git daemon`, a commit-status receiver and a server whose `providers:` point at them. */
export interface HookFixture {
  /** The work tree pushes are made from (on `main`). */
  work: string;
  /** The bare repository `app.git` the daemon serves. */
  bare: string;
  daemon: GitDaemon;
  receiver: StatusReceiver;
  server: TestServer;
  /** Stops everything, including the workflows still open on the server's task queue. */
  stop: () => Promise<void>;
}

/**
 * Sets up a {@link HookFixture}: `files` committed on `main`, and the `providers:` section made by `providers` from
 * the daemon's URL of the repository and the receiver's URL.
 */
export async function startHookFixture(
  prefix: string,
  files: Record<string, string>,
  providers: (repositoryUrl: string, receiverUrl: string) => Record<string, unknown>,
): Promise<HookFixture> {
  const scratch = await scratchDir(prefix);
  const stoppers: Array<() => Promise<void>> = [scratch.cleanup];
  const stop = async () => {
    for (const stopper of stoppers.splice(0).reverse()) await stopper();
  };
  try {
    const work = path.join(scratch.dir, 'work');
    await createWorkTree(work, files);
    const bare = await createBareRepository(scratch.dir, 'app', work);
    const daemon = await startGitDaemon(scratch.dir);
    stoppers.push(daemon.stop);
    const receiver = new StatusReceiver();
    await receiver.start();
    stoppers.push(() => receiver.stop());
    const server = await startTestServer({
      extraConfig: { providers: providers(daemon.url('app'), receiver.url) },
    });
    stoppers.push(async () => {
      // Concurrency-group coordinators idle out by themselves, but not once this server's workers are gone.
      await terminateOpenWorkflows(server.context.client, server.taskQueue);
      await server.close();
    });
    return { work, bare, daemon, receiver, server, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
