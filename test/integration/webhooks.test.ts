/**
 * GitHub and GitLab webhooks against the real server, real Temporal and real git (a bare repository served by
 * `git daemon` on 127.0.0.1): signed pushes and pull requests start the matching pipeline at the pushed commit,
 * everything else starts nothing and says why, and commit statuses reach a local receiver.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { git } from '../helpers/git';
import {
  githubPushPayload,
  pushCommit,
  sendGithubHook,
  startHookFixture,
  type HookFixture,
} from '../helpers/github-hooks';
import type { TestServer } from '../helpers/server';
import type { StatusReceiver } from '../helpers/status-receiver';
import { leftoversOf } from '../helpers/temporal';

const githubSecret = 'gh-webhook-secret';
const gitlabToken = 'gl-webhook-token';

const pipeline = (name: string, extra = '') => `name: ${name}
triggers:
  push:
    branches: [main, "release/*"]
  pull_request:
    branches: [main]
${extra}jobs:
  show:
    steps:
      - name: env
        image: conveyor/busybox:latest
        script:
          - echo "event=$CONVEYOR_EVENT pr=$CONVEYOR_PR_NUMBER branch=$CONVEYOR_BRANCH commit=$CONVEYOR_COMMIT"
          - echo "version=$(cat VERSION 2>/dev/null)"
`;

let server: TestServer;
let receiver: StatusReceiver;
let work = '';
let fixture: HookFixture | undefined;

const bare = () => fixture!.bare;

const push = (branch: string, files: Record<string, string>, message: string) =>
  pushCommit(work, bare(), branch, files, message);

const githubPush = githubPushPayload;

function sendGithub(
  event: string,
  payload: unknown,
  options: { delivery?: string; secret?: string; raw?: string } = {},
) {
  return sendGithubHook(server.url, options.secret ?? githubSecret, event, payload, options);
}

async function runLines(runId: string): Promise<string[]> {
  const { records } = await server.context.logs.read(runId);
  return records.map((record) => record.line);
}

async function finished(runId: string): Promise<string> {
  const status = (await server.context.client.workflow
    .getHandle(runId)
    .result()
    .catch(() => undefined)) as { status: string } | undefined;
  return status?.status ?? (await server.context.client.workflow.getHandle(runId).describe()).status.name.toLowerCase();
}

async function exists(workflowId: string): Promise<boolean> {
  try {
    await server.context.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

describe('webhooks', () => {
  before(async () => {
    fixture = await startHookFixture(
      'hooks',
      { '.conveyor.yml': pipeline('webhook-app'), VERSION: '1.0.0\n' },
      (repositoryUrl, receiverUrl) => ({
        public_url: 'http://conveyor.test',
        github: { webhook_secret: githubSecret, api_url: `${receiverUrl}/github`, token: 'gh-status-token' },
        gitlab: { webhook_token: gitlabToken, api_url: `${receiverUrl}/gitlab`, token: 'gl-status-token' },
        repositories: [
          { name: 'acme/app', url: repositoryUrl },
          { name: 'acme/gitlab-app', url: repositoryUrl },
        ],
      }),
    );
    ({ server, receiver, work } = fixture);
  });
  after(() => fixture?.stop());

  it('a signed GitHub push starts the matching pipeline at the pushed commit and reports pending, then success', async () => {
    const change = await push('main', { VERSION: '1.1.0\n' }, 'Release 1.1.0');
    const delivery = randomUUID();
    const answer = await sendGithub('push', githubPush(change, 'main'), { delivery });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const runId = answer.body.started![0]!.runId;
    assert.ok(runId.includes(delivery), `the delivery id is in the run id: ${runId}`);
    assert.equal(await finished(runId), 'success');
    const lines = await runLines(runId);
    assert.ok(lines.includes(`event=push pr= branch=main commit=${change.after}`), lines.join('\n'));
    // The job's /workspace holds the pushed commit's files, from the run's source archive.
    assert.ok(lines.includes('version=1.1.0'), lines.join('\n'));
    await receiver.waitFor((statuses) => statuses.some((s) => s.sha === change.after && s.state === 'success'));
    const statuses = receiver.forCommit(change.after);
    assert.deepEqual(
      statuses.map((status) => status.state),
      statuses.length === 3 ? ['pending', 'pending', 'success'] : ['pending', 'success'],
    );
    assert.equal(statuses[0]!.state, 'pending');
    assert.equal(statuses.at(-1)!.context, 'conveyor/webhook-app');
    assert.equal(statuses.at(-1)!.repository, 'acme/app');
    assert.equal(statuses.at(-1)!.token, 'gh-status-token');
    assert.equal(statuses.at(-1)!.targetUrl, `http://conveyor.test/runs/${runId}`);

    // A redelivery (same delivery id) starts nothing: Temporal refuses the workflow id.
    const again = await sendGithub('push', githubPush(change, 'main'), { delivery });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body.started, []);
    assert.match(String(again.body.message), /already delivered/);
  });

  it('a push with a bad signature is refused with 401 and starts nothing', async () => {
    const change = await push('main', { VERSION: '1.2.0\n' }, 'Release 1.2.0');
    const delivery = randomUUID();
    const answer = await sendGithub('push', githubPush(change, 'main'), { delivery, secret: 'not-the-secret' });
    assert.equal(answer.status, 401);
    assert.match(String(answer.body.message), /X-Hub-Signature-256 does not match/);
    assert.equal(await exists(`run-webhook-app-gh-${delivery}`), false);
    const unsigned = await fetch(`${server.url}/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID() },
      body: JSON.stringify(githubPush(change, 'main')),
    });
    assert.equal(unsigned.status, 401);
  });

  it('a push to a branch no trigger matches is answered 202 with the reason and starts nothing', async () => {
    const change = await push('feature/login', { VERSION: '1.3.0-dev\n' }, 'Work in progress');
    const delivery = randomUUID();
    const answer = await sendGithub('push', githubPush(change, 'feature/login'), { delivery });
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    assert.match(String(answer.body.message), /branch 'feature\/login' matches none of \[main, release\/\*\]/);
    assert.equal(await exists(`run-webhook-app-gh-${delivery}`), false);
  });

  it('a pull_request event sets CONVEYOR_EVENT and CONVEYOR_PR_NUMBER and builds the head commit', async () => {
    const change = await push('feature/pr', { VERSION: '2.0.0-rc\n' }, 'Add the new parser');
    const base = await git(bare(), 'rev-parse', 'refs/heads/main');
    const answer = await sendGithub('pull_request', {
      action: 'opened',
      number: 7,
      pull_request: {
        head: { ref: 'feature/pr', sha: change.after },
        base: { ref: 'main', sha: base },
        title: 'Add the new parser',
      },
      repository: { full_name: 'acme/app', clone_url: 'https://github.invalid/acme/app.git', default_branch: 'main' },
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const runId = answer.body.started![0]!.runId;
    assert.equal(await finished(runId), 'success');
    assert.ok(
      (await runLines(runId)).includes(`event=pull_request pr=7 branch=feature/pr commit=${change.after}`),
      (await runLines(runId)).join('\n'),
    );
    const closed = await sendGithub('pull_request', {
      action: 'labeled',
      number: 7,
      pull_request: { head: { ref: 'feature/pr', sha: change.after }, base: { ref: 'main', sha: base } },
      repository: { full_name: 'acme/app', clone_url: 'https://github.invalid/acme/app.git' },
    });
    assert.equal(closed.status, 202);
    assert.match(String(closed.body.message), /pull request action 'labeled' is not one of/);
  });

  it('a GitLab push with its token starts the pipeline; a wrong token is refused with 401', async () => {
    const change = await push('main', { VERSION: '3.0.0\n' }, 'Release 3.0.0');
    const payload = {
      object_kind: 'push',
      ref: 'refs/heads/main',
      before: change.before,
      after: change.after,
      checkout_sha: change.after,
      project: { id: 42, path_with_namespace: 'acme/gitlab-app', git_http_url: 'https://gitlab.invalid/acme/app.git' },
      commits: [{ id: change.after, message: 'Release 3.0.0', author: { name: 'Dana', email: 'dana@example.com' } }],
    };
    const send = (token: string, uuid = randomUUID()) =>
      fetch(`${server.url}/hooks/gitlab`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Push Hook',
          'x-gitlab-token': token,
          'x-gitlab-event-uuid': uuid,
        },
        body: JSON.stringify(payload),
      });
    const refused = await send('wrong-token');
    assert.equal(refused.status, 401);
    const response = await send(gitlabToken);
    const body = (await response.json()) as { started: Array<{ runId: string }> };
    assert.equal(response.status, 201, JSON.stringify(body));
    const runId = body.started[0]!.runId;
    assert.match(runId, /^run-webhook-app-gl-/);
    assert.equal(await finished(runId), 'success');
    assert.ok((await runLines(runId)).includes(`event=push pr= branch=main commit=${change.after}`));
    await receiver.waitFor((statuses) => statuses.some((s) => s.sha === change.after && s.state === 'success'));
    const final = receiver.forCommit(change.after).at(-1)!;
    assert.deepEqual([final.provider, final.repository, final.token], ['gitlab', '42', 'gl-status-token']);
    assert.equal(receiver.forCommit(change.after)[0]!.state, 'pending');
  });

  it('answers bad input clearly: a body that is not JSON, an unknown event, a missing or an invalid pipeline', async () => {
    const notJson = await sendGithub('push', undefined, { raw: 'this is not json' });
    assert.equal(notJson.status, 400);
    assert.match(String(notJson.body.message), /the body is not JSON/);

    const unknown = await sendGithub('issues', { action: 'opened' });
    assert.equal(unknown.status, 202);
    assert.match(String(unknown.body.message), /event 'issues' starts nothing: Conveyor handles push and pull_request/);

    const incomplete = await sendGithub('push', { ref: 'refs/heads/main' });
    assert.equal(incomplete.status, 400);
    assert.match(String(incomplete.body.message), /not a GitHub push payload: before/);

    await git(work, 'checkout', '--quiet', '-B', 'release/no-pipeline');
    await git(work, 'rm', '--quiet', '.conveyor.yml');
    await git(work, 'commit', '--quiet', '-m', 'Drop the pipeline');
    const withoutFile = await git(work, 'rev-parse', 'HEAD');
    await git(work, 'push', '--quiet', '--force', bare(), 'HEAD:refs/heads/release/no-pipeline');
    const missing = await sendGithub(
      'push',
      githubPush({ before: '0'.repeat(40), after: withoutFile }, 'release/no-pipeline'),
    );
    assert.equal(missing.status, 202);
    assert.match(String(missing.body.message), /\.conveyor\.yml does not exist at [0-9a-f]{12}/);

    const invalid = await push(
      'release/broken',
      { '.conveyor.yml': 'name: webhook-app\ntriggers:\n  push: {}\njobs:\n  show:\n    stpes: []\n' },
      'Break the pipeline',
    );
    const broken = await sendGithub('push', githubPush(invalid, 'release/broken'));
    assert.equal(broken.status, 422, JSON.stringify(broken.body));
    assert.match(
      String(broken.body.message),
      /\.conveyor\.yml at [0-9a-f]{12} is invalid: line 6: .*unknown key 'stpes'/,
    );
    await receiver.waitFor((statuses) => statuses.some((s) => s.sha === invalid.after));
    const status = receiver.forCommit(invalid.after)[0]!;
    assert.equal(status.state, 'failure');
    assert.match(status.description ?? '', /line 6/);
    assert.equal(status.context, 'conveyor/webhook-app');
  });

  it('leaves no container of its runs behind', async () => {
    const runs = await server.context.client.workflow.list({ query: `TaskQueue = '${server.taskQueue}'` });
    for await (const run of runs) assert.deepEqual(await leftoversOf(run.workflowId), []);
  });
});
